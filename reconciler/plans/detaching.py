"""Shared-line members leave before their user is deleted."""

from __future__ import annotations

from reconciler.diffs import DiffItem, Operation
from reconciler.plans.changes import Action, Change
from reconciler.plans.comparing import update
from reconciler.plans.reasons import ChangeReason
from schema.declarations import Declared
from schema.kinds import can_be_member, has_members
from schema.state import ResourceKey, TenantState


def split_line_updates(
    updates: list[Change], live: TenantState, desired: dict[ResourceKey, Declared],
    departing: set[str], late_only: set[ResourceKey], old_keys: dict[ResourceKey, ResourceKey],
    deleted: set[ResourceKey],
) -> tuple[list[Change], list[Change]]:
    """Shared-line changes that must happen before users leave, and those after.

    A shared line (declared, or left alone as unmanaged) holding a member whose
    user is deleted or replaced must drop that member first. A declared line
    whose whole update can run early (it needs no user still to be created, no
    renumber, no value another holds) does so; otherwise it is split into an
    early detach and a late update. `live` is the state after renumbering, and
    `old_keys` maps a renumbered line back to the key it has before that.
    """
    early: list[Change] = []
    late = {change.key: change for change in updates}
    old_numbers = {new.number: old.number for new, old in old_keys.items()
                   if can_be_member(new.kind)}
    for key, fields in live.resources.items():
        if not has_members(key.kind) or key in deleted:
            continue
        leaving = departing & set(fields["members"])
        if not leaving:
            continue
        if key in desired and key not in late_only and key in late:
            early.append(late.pop(key))
            continue
        kept = {ext: m for ext, m in fields["members"].items() if ext not in leaving}
        # The detach runs before renumbering: name members by the numbers they have then.
        kept_then = {old_numbers.get(ext, ext): m for ext, m in kept.items()}

        early.append(Change(
            Action.UPDATE, old_keys.get(key, key), {"members": kept_then},
            tuple(DiffItem(Operation.REMOVE, ("members", ext), fields["members"][ext], None)
                  for ext in sorted(leaving)),
            origin=desired[key].at() if key in desired else None,
            reason=ChangeReason.MEMBERS_LEAVE,
            reason_args={"managed": "yes" if key in desired else "no"},
        ))
        late.pop(key, None)
        if key in desired:
            adopt = key not in live.managed
            late.update((c.key, c) for c in update(desired[key], {**fields,
                                                                        "members": kept}, adopt))
    return early, list(late.values())



def leavers_detached(live: TenantState, leavers: frozenset[ResourceKey],
                     deleted: set[ResourceKey], desired: dict[ResourceKey, Declared]
                     ) -> list[Change]:
    """A leaver (a managed user deleted so that another can take its number) leaves its
    shared lines first; named by the numbers the tenant has before any renumber."""
    gone = {key.number for key in leavers if can_be_member(key.kind)}
    steps = []
    for key, fields in sorted(live.resources.items()):
        leaving = gone & set(fields.get("members", {}))
        if not has_members(key.kind) or key in deleted or not leaving:
            continue
        kept = {ext: m for ext, m in fields["members"].items() if ext not in leaving}
        steps.append(Change(
            Action.UPDATE, key, {"members": kept},
            tuple(DiffItem(Operation.REMOVE, ("members", ext), fields["members"][ext], None)
                  for ext in sorted(leaving)),
            origin=desired[key].at() if key in desired else None,
            reason=ChangeReason.MEMBERS_LEAVE,
            reason_args={"managed": "yes" if key in desired else "no"}))
    return steps
