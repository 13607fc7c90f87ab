"""A user whose type or site changes, or a shared line whose site changes, is deleted
and created again: one *replace*."""

from __future__ import annotations

from dataclasses import replace

from reconciler.plans.changes import Change
from reconciler.plans.reasons import ChangeReason
from schema.kinds import can_be_member, describe
from schema.state import ResourceKey


def pair_replacements(creates: list[Change], deletes: list[Change],
                      replaced_by: dict[ResourceKey, ResourceKey] | None = None
                      ) -> tuple[list[Change], list[Change]]:
    """Mark a delete and a create of the same user number as the two halves of a replace,
    and likewise each pair `replaced_by` names (a previous number of another kind or
    site: old key -> new key).

    The portal cannot change a user's type (hard phone vs hot desk) or move it to
    another site in place, and the user's call recordings go with the delete. The
    plan says so on both halves.
    """
    created = {c.key.number: c for c in creates if can_be_member(c.key.kind)}
    # Another kind (a shared line) is paired only with itself moving to another site.
    moving = {(c.key.kind, c.key.number): c for c in creates if not can_be_member(c.key.kind)}
    creating = {c.key for c in creates}
    paired: dict[ResourceKey, ResourceKey] = {}
    for delete in deletes:
        create = (created.get(delete.key.number) if can_be_member(delete.key.kind)
                  else moving.get((delete.key.kind, delete.key.number)))
        new = (replaced_by or {}).get(delete.key)
        if new is not None and new in creating:
            paired[delete.key], paired[new] = new, delete.key
        elif create is not None and (can_be_member(delete.key.kind)
                                     or create.key.site != delete.key.site):
            paired[delete.key] = create.key
            paired[create.key] = delete.key

    def mark(change: Change) -> Change:
        other = paired.get(change.key)
        if other is None:
            return change
        noun = "user" if can_be_member(change.key.kind) else describe(change.key.kind).singular
        reason = (ChangeReason.TYPE_CANNOT_CHANGE if other.kind is not change.key.kind
                  else ChangeReason.SITE_CANNOT_CHANGE)
        return replace(change, replace_pair=other, reason=reason, reason_args={"noun": noun})

    return [mark(c) for c in creates], [mark(c) for c in deletes]
