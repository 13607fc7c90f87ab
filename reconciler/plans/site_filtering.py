"""Limiting a plan to some sites, without leaving out a step a kept one needs.

A kept change may need an earlier change in a site left out: a number freed
there (a user moving site is deleted there, created here), a member created or
deleted there, a unique value released there, a seat or licence freed there.
Applying the kept changes alone would fail half way, so such a plan is refused,
naming every step it would leave out and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from reconciler.plans.changes import Action, Change
from reconciler.runtime.errors import ReconcilerError
from schema.canonical import UNIQUE_FIELDS
from schema.kinds import has_members, takes_licence, takes_seat
from schema.problems import Problem
from schema.state import TenantState


@dataclass(frozen=True, slots=True, init=False)
class SiteFilter:
    """The sites a run is limited to: those of `--site` (none: every site), less those of
    `--exclude-site`. One object travels from the command to the plan."""

    sites: frozenset[str]
    excluded: frozenset[str]

    def __init__(self, sites: Iterable[str] = (), excluded: Iterable[str] = ()) -> None:
        object.__setattr__(self, "sites", frozenset(sites))
        object.__setattr__(self, "excluded", frozenset(excluded))

    def __call__(self, site: str) -> bool:
        return (not self.sites or site in self.sites) and site not in self.excluded

    @property
    def limits(self) -> bool:
        return bool(self.sites or self.excluded)

    @property
    def names(self) -> frozenset[str]:
        """Every site the filter names, each of which must exist."""
        return self.sites | self.excluded

    def keeps(self, problem: Problem) -> bool:
        """A problem counts if it is in a chosen site, or in no site at all (tenant.yaml
        and the tree's layout concern everyone)."""
        return problem.site is None or self(problem.site)


#: No filter: every site.
EVERY_SITE = SiteFilter()


def kept_changes(changes: list[Change], chosen: SiteFilter, live: TenantState,
                 packages: dict[str, int], licences: int) -> list[Change]:
    """The changes of the chosen sites; refused if they need a step left out."""
    kept = [c for c in changes if chosen(c.key.site)]
    if not chosen.limits or len(kept) == len(changes):
        return kept
    needs = _shared_needs(changes, chosen, live) + _replace_needs(changes, chosen) \
        + _capacity_needs(changes, chosen, live, packages, licences)
    if needs:
        listed = "\n  ".join(sorted(set(needs)))
        raise ReconcilerError(
            f"the site filter leaves out {len(set(needs))} step(s) in other sites that the "
            f"chosen sites' changes need:\n  {listed}\n  add those sites to --site "
            "(or drop the --exclude-site), or plan without site filters")
    return kept


def _shared_needs(changes: list[Change], chosen: SiteFilter, live: TenantState) -> list[str]:
    """Earlier left-out changes touching a number or unique value a kept change uses."""
    needs = []
    left_out: dict[str, Change] = {}
    for change in changes:
        touched = _touches(change, live)
        if not chosen(change.key.site):
            for token in touched:
                left_out.setdefault(token, change)
            continue
        for token in touched:
            earlier = left_out.get(token)
            if earlier is not None:
                needs.append(f"{_name(earlier)} before {_name(change)} ({_why(token)})")
    return needs


def _replace_needs(changes: list[Change], chosen: SiteFilter) -> list[str]:
    """A user moving site is one replace in two sites. Kept alone, its delete would
    leave a user missing (and a `previous_extension` naming nothing)."""
    by_key = {change.key: change for change in changes}
    needs = []
    for change in changes:
        other = by_key.get(change.replace_pair) if change.replace_pair else None
        if other is None or not chosen(change.key.site) or chosen(other.key.site):
            continue
        deleted, created = (other, change) if other.action is Action.DELETE else (change, other)
        if created is change and deleted.key.number == created.key.number:
            continue  # the number it frees is already a need (`_shared_needs`)
        needs.append(f"{_name(other)} with {_name(change)} (one replace: the user moves "
                     f"from site {deleted.key.site} to {created.key.site})")
    return needs


def _touches(change: Change, live: TenantState) -> set[str]:
    tokens = {f"number {change.key.number}"}
    if change.action is Action.RENUMBER:
        tokens.add(f"number {change.fields['number']}")
    if has_members(change.key.kind):
        if change.action is Action.CREATE:
            members = change.fields.get("members", {})
        elif change.action is Action.DELETE:  # its members are free to go afterwards
            members = live.resources.get(change.key, {}).get("members", {})
        else:
            members = {item.path[1]: None for item in change.diffs
                       if item.path[0] == "members" and len(item.path) == 2}
            # The members are written whole: one the tenant's line does not hold yet
            # under that number (a member renumbered in another site, whose renumber
            # the diff does not show as it carries memberships along) is needed too.
            held = live.resources.get(change.key, {}).get("members", {})
            members |= {ext: None for ext in change.fields.get("members", {})
                        if ext not in held}
        tokens |= {f"number {ext}" for ext in members}
    for item in change.diffs:
        if item.path[0] in UNIQUE_FIELDS and item.old is not None:
            tokens.add(f"{item.path[0]} {item.old}")
    if change.action is Action.DELETE:  # frees every unique value it holds
        held = live.resources.get(change.key, {})
        tokens |= {f"{name} {held[name]}" for name in UNIQUE_FIELDS if held.get(name)}
    for name in UNIQUE_FIELDS:
        if change.fields.get(name) is not None:
            tokens.add(f"{name} {change.fields[name]}")
    return tokens


def _capacity_needs(changes: list[Change], chosen: SiteFilter, live: TenantState,
                    packages: dict[str, int], licences: int) -> list[str]:
    """Seats and licences: the kept changes alone must never need more than there are."""
    used: Counter[str] = Counter(str(f.get("package")) for k, f in live.resources.items()
                                 if takes_seat(k.kind))
    lines = sum(1 for k in live.resources if takes_licence(k.kind))
    needs = []
    for change in (c for c in changes if chosen(c.key.site)):
        taken, freed = _seat_moves(change, live)
        used.update({taken: 1} if taken else {})
        used.subtract({freed: 1} if freed else {})
        if taken and used[taken] > packages.get(taken, 0):
            needs += [f"{_name(c)} before {_name(change)} (frees a seat on package {taken})"
                      for c in changes if not chosen(c.key.site)
                      and _seat_moves(c, live)[1] == taken]
        if takes_licence(change.key.kind):
            lines += {Action.CREATE: 1, Action.DELETE: -1}.get(change.action, 0)
            if lines > licences:
                needs += [f"{_name(c)} before {_name(change)} (frees a shared-line licence)"
                          for c in changes if not chosen(c.key.site)
                          and takes_licence(c.key.kind) and c.action is Action.DELETE]
    return needs


def _seat_moves(change: Change, live: TenantState) -> tuple[str | None, str | None]:
    """(package a seat is taken on, package a seat is freed on) by this change."""
    if not takes_seat(change.key.kind):
        return None, None
    current = live.resources.get(change.key, {}).get("package")
    match change.action:
        case Action.CREATE:
            return change.fields.get("package"), None
        case Action.DELETE:
            return None, current
        case Action.UPDATE:
            return (change.fields["package"], current) if "package" in change.fields \
                else (None, None)
        case Action.RENUMBER:
            return None, None
        case _:
            assert_never(change.action)


def _name(change: Change) -> str:
    verb = "renumber" if change.action is Action.RENUMBER else change.label
    return f"{verb} {change.key} ({change.key.site})"


def _why(token: str) -> str:
    what, _, value = token.partition(" ")
    return f"number {value}" if what == "number" else f"{what} {value}"
