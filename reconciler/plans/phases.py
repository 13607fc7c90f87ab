"""The plan's phases, in the order that keeps every intermediate tenant valid.

The tenant checks every step (numbers are unique, members must exist, seats and
licences are counted), so the changes of a transition run in these phases:

    1. release unique values that move between resources that both stay
    2. delete shared lines that are gone           (frees numbers and licences)
    3. detach members whose user is leaving         (a user with memberships cannot go)
    4. delete users and hot desk users              (frees numbers and seats)
    5. renumber in place                            (numbers are free now; swaps park)
    6. update (and adopt), then create, users       (a member must exist before it joins)
    7. create, then update, shared lines            (members now exist)

Within a phase changes are sorted by (site, kind, number), so the same inputs
always give the same plan, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.plans.changes import Change
from reconciler.plans.renumbering import renumber_steps
from reconciler.plans.seating import in_seat_order
from reconciler.plans.transition import Transition
from schema.kinds import can_be_member, has_members

Phase = Callable[[Transition], list[Change]]


def release_unique_values(t: Transition) -> list[Change]:
    return _sorted(t.releases)


def delete_lines(t: Transition) -> list[Change]:
    return _sorted(c for c in t.deletes if has_members(c.key.kind))


def detach_members(t: Transition) -> list[Change]:
    early, _ = t.line_changes
    return early  # already in key order


def delete_users(t: Transition) -> list[Change]:
    return _sorted(c for c in t.deletes if can_be_member(c.key.kind))


def renumber(t: Transition) -> list[Change]:
    if not t.renumbering.moves:
        return []  # the usual case: nothing to work out over every resource
    present = {key.number for key in t.before.resources} - {key.number for key in t.deleted}
    return renumber_steps(t.renumbering.moves, present,
                          {d.number for d in t.config.declared},
                          {key: d.at() for key, d in t.desired.items()},
                          lambda number: _reserved(t, number))


def update_then_create_users(t: Transition) -> list[Change]:
    updates = _sorted(c for c in t.updates if can_be_member(c.key.kind))
    return [*in_seat_order(updates, t.after, t.config.settings.packages),
            *_sorted(c for c in t.creates if can_be_member(c.key.kind))]


def create_then_update_lines(t: Transition) -> list[Change]:
    _, late = t.line_changes
    return [*_sorted(c for c in t.creates if has_members(c.key.kind)), *_sorted(late)]


PHASES: tuple[Phase, ...] = (release_unique_values, delete_lines, detach_members,
                             delete_users, renumber, update_then_create_users,
                             create_then_update_lines)


def in_phases(t: Transition) -> list[Change]:
    return [change for phase in PHASES for change in phase(t)]


def _reserved(t: Transition, number: str) -> bool:
    """A number no temporary renumber may use: ignored by some site, or colliding with
    (equal to, starting, or started by) a feature code."""
    config = t.config
    codes = config.settings.feature_codes.values()
    return (any(config.is_ignored(site, number) for site in config.site_settings)
            or any(number.startswith(code) or code.startswith(number) for code in codes))


def _sorted(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: c.key)
