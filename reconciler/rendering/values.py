"""How single values and changes are spelled, the same in every format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol, assert_never

from reconciler.plans import LABELS, Action
from reconciler.plans.diffs import DiffItem, Operation
from reconciler.rendering.view import ChangeView, PlanView
from schema.printable import printable
from schema.state import ResourceKey


class Named(Protocol):
    """What naming a change takes: a plan's Change (apply's progress) or a ChangeView."""

    @property
    def action(self) -> Action: ...

    @property
    def key(self) -> ResourceKey: ...

    @property
    def fields(self) -> Mapping[str, Any]: ...

    @property
    def replace_pair(self) -> ResourceKey | None: ...

    @property
    def adopt(self) -> bool: ...


class Described(Protocol):
    def describe(self) -> str: ...


def show(value: Any) -> str:
    """JSON spelling: strings quoted, so "0901" and 901 never look alike, and control
    or bidirectional characters escaped."""
    if isinstance(value, dict) and set(value) == {"button", "ring_delay"}:
        return show_member(value)
    return printable(json.dumps(value, ensure_ascii=False))


def show_member(member: dict[str, Any]) -> str:
    button = "no button" if member["button"] is None else f"button {member['button']}"
    return f"{button}, ring delay {member['ring_delay']}s"


def show_secret(ref: Described) -> str:
    """A write-only value: never its content, only that it is set and from where."""
    return f"(sensitive, will be set) from {ref.describe()}"


def title(change: Named) -> str:
    """'create user 0997', 'replace hot_desk_user 2001 with user 2001 (1 of 2: delete)'."""
    if change.replace_pair is not None:
        old, new = ((change.key, change.replace_pair) if change.action is Action.DELETE
                    else (change.replace_pair, change.key))
        step = "1 of 2: delete" if change.action is Action.DELETE else "2 of 2: create"
        if old.kind is new.kind and old.number == new.number:
            return f"move {old} from site {old.site} to site {new.site} ({step})"
        return f"replace {old} with {new} ({step})"
    if change.action is Action.RENUMBER:
        return f"renumber {change.key} to {change.fields['number']}"
    verb = "adopt" if change.adopt else change.action.value
    return f"{verb} {change.key}"


def create_values(change: ChangeView) -> list[str]:
    values = [f"{name} {show(value)}" for name, value in change.fields.items()
              if name != "members"]
    values += [f"member {ext} ({show(m)})" for ext, m in change.fields.get("members", {}).items()]
    if change.password is not None:
        values.append(f"password {show_secret(change.password)}")
    return values


def detail_lines(change: ChangeView) -> list[str]:
    """The field-by-field lines under an update (old -> new), and warnings."""
    match change.action:
        case Action.DELETE:
            return [f"! {change.note}"] if change.replace_pair is not None else []
        case Action.CREATE:
            # A move's create says what it carries over and what must be entered again.
            args = change.reason_args
            return [f"! {change.note}"] if "carried" in args or "reenter" in args else []
        case Action.RENUMBER:
            return []
        case Action.UPDATE:
            lines = [diff_line(item) for item in change.diffs]
            if change.password is not None:
                lines.append(f"password: {show_secret(change.password)}")
            return lines
        case _:
            assert_never(change.action)


def diff_line(item: DiffItem) -> str:
    if item.path[0] == "members" and len(item.path) == 2:
        if item.operation is Operation.ADD:
            return f"members: + {item.path[1]} ({show(item.new)})"
        if item.operation is Operation.REMOVE:
            return f"members: - {item.path[1]}"
    return f"{'.'.join(item.path)}: {show(item.old)} -> {show(item.new)}"


def summary(plan: PlanView) -> str:
    """'Plan: 8 to create, 0 to update, 0 to replace, 0 to delete.' Adoptions and
    renumbers are listed only when the plan has some."""
    counts = plan.counts()
    parts = [f"{counts[label]} to {label}" for label in LABELS
             if label not in ("adopt", "renumber") or counts[label]]
    return f"Plan: {', '.join(parts)}."


def compared_lines(plan: PlanView) -> list[str]:
    """What a plan against a read-only view compared, and what it could not: said
    first, so nobody reads "no changes" as "nothing differs"."""
    compared = plan.compared
    if compared is None:
        return []
    hidden = [kind for kind, fields in compared["not_compared"].items()
              if kind not in compared["kinds"]]
    lines = [f"Compared with {compared['source']}: only what it shows."]
    lines += [f"  {kind}: {', '.join(fields)}" for kind, fields in compared["fields"].items()]
    unknown = [f"{kind} (none in the file)" for kind in hidden]
    unknown += [f"{kind} {', '.join(fields)}" for kind, fields in
                compared["not_compared"].items() if kind not in hidden and fields]
    if unknown:
        lines.append(f"  Not compared, unknown: {'; '.join(unknown)}")
    return [printable(line) for line in lines]


#: The heading of the facts a plan records as bought.
BOUGHT = "Bought, per tenant.yaml (the apply records it before its first step):"


def bought_lines(plan: PlanView) -> list[str]:
    """'packages.Basic: 10 -> 12', one a fact tenant.yaml says was bought."""
    return [printable(f"{fact['fact']}: {_fact(fact['old'])} -> {_fact(fact['new'])}")
            for fact in plan.bought]


def _fact(value: Any) -> str:
    return "not listed" if value is None else show(value)


def described_changes(document: Mapping[str, Any]) -> list[str]:
    """One line per change of a plan document, in the plan's own words: 'update user
    0997 (Main): mac: "020000000997" -> null'. For saying what moved between two plans."""
    view = PlanView(document, "")
    lines = [f"record {line}" for line in bought_lines(view)]
    for change in view.changes:
        details = (create_values(change) if change.action is Action.CREATE
                   else detail_lines(change))
        head = f"{title(change)} ({change.key.site})"
        lines.append(printable(f"{head}: {'; '.join(details)}" if details else head))
    return lines
