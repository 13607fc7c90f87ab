"""The plan as a reviewer reads it in a terminal or a pull request.

One line per change, grouped by site, in the order they will be applied:

    + create user 0997: name "0997", package "Empty User Pack"
    ~ update shared_line 555
        direct_dial_number: "024801027" -> "024801028"
    - delete hot_desk_user 0901
"""

from __future__ import annotations

from collections import defaultdict

from reconciler.diffs import DiffItem, Operation
from reconciler.plans import LABELS, Action, Change, Plan
from reconciler.rendering.values import show, show_secret

_SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


def render(plan: Plan, tenant_description: str) -> str:
    lines = [f"Tenant {show(plan.tenant)} at {tenant_description}", ""]
    if plan.is_empty:
        lines.append("No changes. The tenant matches the configuration.")
        return "\n".join(lines) + "\n"
    by_site: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:
        by_site[change.key.site].append(change)
    for site in sorted(by_site):
        lines.append(f"Site {site}")
        for change in by_site[site]:
            lines.extend(_change_lines(change))
        lines.append("")
    lines.append(summary(plan))
    return "\n".join(lines) + "\n"


def summary(plan: Plan) -> str:
    counts = plan.counts()
    parts = [f"{counts[label]} to {label}" for label in LABELS]
    return f"Plan: {', '.join(parts)}."


def _head(change: Change) -> str:
    if change.replace_pair is None:
        return f"  {_SIGNS[change.action]} {change.action.value} {change.key}"
    old, new = ((change.key, change.replace_pair) if change.action is Action.DELETE
                else (change.replace_pair, change.key))
    step = "1 of 2: delete" if change.action is Action.DELETE else "2 of 2: create"
    return f"-/+ replace {old} with {new} ({step})".join(("  ", ""))


def _change_lines(change: Change) -> list[str]:
    head = _head(change)
    if change.replace_pair is not None and change.action is Action.DELETE:
        return [head, f"      ! {change.note}"]
    if change.action is Action.CREATE:
        values = [f"{name} {show(value)}" for name, value in change.fields.items()
                  if name != "members"]
        values += [f"member {ext} ({show(m)})"
                   for ext, m in change.fields.get("members", {}).items()]
        if change.password is not None:
            values.append(f"password {show_secret(change.password)}")
        return [f"{head}: {', '.join(values)}" if values else head]
    if change.action is Action.DELETE:
        return [head]
    lines = [head + (f"  ({change.note})" if change.note else "")]
    lines += [f"      {_diff_line(item)}" for item in change.diffs]
    if change.password is not None:
        lines.append(f"      password: {show_secret(change.password)}")
    return lines


def _diff_line(item: DiffItem) -> str:
    where = ".".join(item.path)
    if item.path[0] == "members" and len(item.path) == 2:
        if item.operation is Operation.ADD:
            return f"members: + {item.path[1]} ({show(item.new)})"
        if item.operation is Operation.REMOVE:
            return f"members: - {item.path[1]}"
    return f"{where}: {show(item.old)} -> {show(item.new)}"
