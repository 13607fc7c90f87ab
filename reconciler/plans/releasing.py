"""Freeing unique values (direct dial numbers, portal IDs, AAD IDs, MACs) before they move."""

from __future__ import annotations

from reconciler.plans.changes import Action, Change
from reconciler.plans.diffs import DiffItem, Operation
from reconciler.plans.reasons import ChangeReason
from schema.canonical import UNIQUE_FIELDS
from schema.renumbering import Renumbering
from schema.state import ResourceKey, TenantState


def releases(claims: list[Change], live: TenantState, deleted: set[ResourceKey],
             renumbering: Renumbering) -> tuple[list[Change], set[ResourceKey]]:
    """Steps that free values another resource takes, and the keys of the takers.

    When a value moves from one resource to another that both stay, the holder
    must let go first; in a swap, each must let go before either takes. So every
    holder that stays gets a release step (the field cleared) at the very start,
    and sets its own new value in its normal update later. A holder being deleted
    needs none: deletes come before any claim. `live` is the state after
    renumbering; `renumbering` gives a renumbered holder the key it has when
    releases run.
    """
    held = {(name, fields[name]): key for key, fields in live.resources.items()
            for name in UNIQUE_FIELDS if fields.get(name) is not None}
    released: dict[ResourceKey, dict[str, str]] = {}
    claimants: set[ResourceKey] = set()
    for claim in claims:
        for name in UNIQUE_FIELDS:
            holder = held.get((name, claim.fields.get(name)))
            if holder is None or holder == claim.key:
                continue
            claimants.add(claim.key)
            if holder not in deleted:
                released.setdefault(holder, {})[name] = str(claim.key)
    steps = [
        Change(
            Action.UPDATE, renumbering.old_of(holder), dict.fromkeys(sorted(fields)),
            tuple(DiffItem(Operation.CHANGE, (name,), live.resources[holder][name], None)
                  for name in sorted(fields)),
            reason=ChangeReason.RELEASE, reason_args=fields,
        )
        for holder, fields in released.items()
    ]
    return steps, claimants
