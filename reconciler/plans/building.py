"""Building the plan: the smallest ordered list of changes taking the tenant to the config.

Order matters because the tenant checks every step (numbers are unique, members
must exist, seats and licences are counted). These phases keep every
intermediate state valid:

    0. release unique values that move between resources that both stay
    1. delete shared lines that are gone           (frees numbers and licences)
    2. detach members whose user is leaving         (a user with memberships cannot go)
    3. delete users and hot desk users              (frees numbers and seats)
    4. renumber in place                            (numbers are free now; swaps park)
    5. update (and adopt), then create, users       (a member must exist before it joins)
    6. create, then update, shared lines            (members now exist)

Within a phase changes are sorted by (site, kind, number), so the same inputs
always give the same plan, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from reconciler.errors import ConfigError
from reconciler.plans.changes import Action, Change, Plan
from reconciler.plans.comparing import creation, update
from reconciler.plans.detaching import leavers_detached, split_line_updates
from reconciler.plans.ignoring import edits_of_ignored
from reconciler.plans.reasons import ChangeReason
from reconciler.plans.releasing import releases
from reconciler.plans.renumbering import renumber_steps
from reconciler.plans.replacing import pair_replacements
from reconciler.plans.safety import reasons_to_force
from reconciler.plans.seating import in_seat_order
from reconciler.plans.site_filtering import SiteFilter, kept_changes
from schema.declarations import Declared, TenantConfig
from schema.kinds import can_be_member, has_members
from schema.ownership import Leftovers, sort_leftovers
from schema.renumbering import Renumbering, plan_renumbering
from schema.rules.live import check_against_live
from schema.state import Fields, ResourceKey, TenantState


def build_plan(config: TenantConfig, live: TenantState, sites: Iterable[str] = (),
               exclude_sites: Iterable[str] = ()) -> Plan:
    """Plan the changes; raise ConfigError if the config cannot apply to this tenant.

    With `sites` (or `exclude_sites`), only changes to those sites are planned;
    rules are still checked on the whole tenant.
    """
    renumbering = plan_renumbering(config, live)
    moves = renumbering.moves
    desired = {declared.key: declared for declared in config.declared}
    leftovers = sort_leftovers(config, live, set(desired) - renumbering.leavers, set(moves))
    problems = check_against_live(config, live, renumbering, leftovers)
    if problems:
        raise ConfigError(problems)
    found = _compare(desired, live, renumbering, leftovers)
    every_change = _in_phases(found, config, live, renumbering)
    problems = edits_of_ignored(every_change, config)
    if problems:
        raise ConfigError(problems)
    chosen = SiteFilter(sites, exclude_sites)
    changes = kept_changes(every_change, chosen, live, config.settings.packages,
                           config.settings.licences.shared_lines)
    return Plan(
        config.settings.tenant, tuple(changes),
        unmanaged=tuple(k for k in found.leftovers.unmanaged if chosen(k.site)),
        ignored=tuple(k for k in found.leftovers.ignored if chosen(k.site)),
        needs_force=tuple(reasons_to_force(changes, config, live)),
        sites=tuple(sorted(set(sites))), excluded_sites=tuple(sorted(set(exclude_sites))),
        unfinished=live.unfinished,
    )


@dataclass(slots=True)
class _Comparison:
    """What differs between the config and the tenant, before any ordering."""

    desired: dict[ResourceKey, Declared]
    now: TenantState  # the tenant as it will be once renumbered
    leftovers: Leftovers
    creates: list[Change]
    updates: list[Change]
    deletes: list[Change]


def _compare(desired: dict[ResourceKey, Declared], live: TenantState,
             renumbering: Renumbering, leftovers: Leftovers) -> _Comparison:
    now = _after_renumbering(live, renumbering.moves, renumbering.leavers)
    creates = [creation(d) for key, d in desired.items() if key not in now.resources]
    deletes = [Change(Action.DELETE, key, reason=ChangeReason.NOT_IN_CONFIG
                      if key in live.managed else ChangeReason.PRUNED)
               for key in leftovers.delete]
    updates = [change for key, declared in desired.items() if key in now.resources
               for change in update(declared, now.resources[key], adopt=key not in now.managed,
                                    password_from=now.password_from.get(key))]
    creates, deletes = pair_replacements(creates, deletes, renumbering.replaced_by)
    return _Comparison(desired, now, leftovers, creates, updates, deletes)


def _in_phases(found: _Comparison, config: TenantConfig, live: TenantState,
               renumbering: Renumbering) -> list[Change]:
    """The changes in the phases of the module docstring, each phase sorted by key."""
    desired, now, creates, updates, deletes = (found.desired, found.now, found.creates,
                                               found.updates, found.deletes)
    moves = renumbering.moves
    old_keys = {new: old for old, new in moves.items()}
    deleted = {c.key for c in deletes}
    # Users leaving by number; a leaver's number is taken by a renumbered user at once,
    # so leavers leave their lines on their own (leavers_detached).
    departing = {c.key.number for c in deletes
                 if can_be_member(c.key.kind) and c.key not in renumbering.leavers}
    arriving = {c.key.number for c in creates if can_be_member(c.key.kind)} | \
        {new.number for new in moves.values() if can_be_member(new.kind)}
    freed, claimants = releases([*creates, *updates], now, deleted, old_keys)
    # A release is asked for by the holder's own declaration (its value changes).
    freed = [replace(c, origin=desired[moves.get(c.key, c.key)].at()) for c in freed]
    late_only = claimants | set(old_keys) | {
        key for key, d in desired.items()
        if has_members(key.kind) and arriving & set(d.fields()["members"])}
    detaches, line_updates = split_line_updates(
        [c for c in updates if has_members(c.key.kind)], now, desired, departing,
        late_only, old_keys, deleted)
    detaches = [*leavers_detached(live, renumbering.leavers, deleted, desired), *detaches]
    present = {key.number for key in live.resources} - {key.number for key in deleted}
    renumbers = renumber_steps(moves, present, {d.number for d in config.declared},
                               {key: d.at() for key, d in desired.items()},
                               lambda number: _reserved(config, number))
    released = {moves.get(c.key, c.key): set(c.fields) for c in freed}
    updates = _from_released(updates, released)
    line_updates = _from_released(line_updates, released)
    return [
        *_sorted(freed),
        *_sorted(c for c in deletes if has_members(c.key.kind)),
        *_sorted(detaches),
        *_sorted(c for c in deletes if can_be_member(c.key.kind)),
        *renumbers,
        *in_seat_order(_sorted(c for c in updates if can_be_member(c.key.kind)), now,
                       config.settings.packages),
        *_sorted(c for c in creates if can_be_member(c.key.kind)),
        *_sorted(c for c in creates if has_members(c.key.kind)),
        *_sorted(line_updates),
    ]


def _after_renumbering(live: TenantState, moves: dict[ResourceKey, ResourceKey],
                       leavers: frozenset[ResourceKey]) -> TenantState:
    """The tenant as it will be once every renumber is done: leavers gone (with their
    memberships), keys and members renamed.

    Every later phase is planned against this, so a renumbered user is updated,
    not deleted and created, and its memberships follow it."""
    if not moves:
        return live
    numbers = {old.number: new.number for old, new in moves.items() if can_be_member(old.kind)}
    gone = {key.number for key in leavers if can_be_member(key.kind)}
    resources: dict[ResourceKey, Fields] = {}
    for key, fields in live.resources.items():
        if key in leavers:
            continue
        if has_members(key.kind) and (numbers.keys() | gone) & fields["members"].keys():
            fields = {**fields, "members": {numbers.get(ext, ext): m
                                            for ext, m in fields["members"].items()
                                            if ext not in gone}}
        resources[moves.get(key, key)] = fields
    managed = {moves.get(key, key) for key in live.managed if key not in leavers}
    password_from = {moves.get(key, key): source for key, source in live.password_from.items()
                     if key not in leavers}
    return TenantState(resources, live.facts, managed, password_from=password_from)


def _from_released(changes: list[Change], released: dict[ResourceKey, set[str]]
                   ) -> list[Change]:
    """A value released at the start is empty by the time its holder's own update runs:
    the update shows it from empty, so each value is shown once, with the old value it
    really has then."""
    if not released:
        return changes
    return [replace(c, diffs=tuple(replace(d, old=None) if d.path[0] in released[c.key] else d
                                   for d in c.diffs)) if c.key in released else c
            for c in changes]


def _reserved(config: TenantConfig, number: str) -> bool:
    """A number no temporary renumber may use: ignored by some site, or colliding with
    (equal to, starting, or started by) a feature code."""
    codes = config.settings.feature_codes.values()
    return (any(config.is_ignored(site, number) for site in config.site_settings)
            or any(number.startswith(code) or code.startswith(number) for code in codes))


def _sorted(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: c.key)


