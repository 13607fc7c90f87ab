"""A user whose type or site changes is deleted and created again: one *replace*."""

from __future__ import annotations

from dataclasses import replace

from reconciler.plans.changes import Change
from schema import rulebook
from schema.state import ResourceKey


def pair_replacements(creates: list[Change], deletes: list[Change]
                      ) -> tuple[list[Change], list[Change]]:
    """Mark a delete and a create of the same user number as the two halves of a replace.

    The portal cannot change a user's type (hard phone vs hot desk) or move it to
    another site in place, and the user's call recordings go with the delete. The
    plan says so on both halves.
    """
    created = {c.key.number: c for c in creates if c.key.kind.is_user}
    paired: dict[ResourceKey, ResourceKey] = {}
    for delete in deletes:
        create = created.get(delete.key.number)
        if delete.key.kind.is_user and create is not None:
            paired[delete.key] = create.key
            paired[create.key] = delete.key

    def mark(change: Change) -> Change:
        other = paired.get(change.key)
        if other is None:
            return change
        what = "type" if other.kind is not change.key.kind else "site"
        return replace(change, replace_pair=other, note=(
            f"a user's {what} cannot change in place [{rulebook.KIND_CHANGE.id}]; "
            "download its call recordings before applying"))

    return [mark(c) for c in creates], [mark(c) for c in deletes]
