"""Renumbering in place (`previous_extension:` / `previous_number:`), swaps included.

A renumber keeps the resource and its memberships; it runs after every delete
(so a freed number can be taken) and before any create. Moves are done in an
order where each new number is free when taken; a cycle (A takes B's number
while B takes A's) is broken by parking one resource on a temporary free
number first, and the plan says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reconciler.plans.changes import Action, Change
from reconciler.plans.diffs import DiffItem, Operation
from reconciler.plans.reasons import ChangeReason
from schema.locations import Location
from schema.numbering_plan import NumberSet
from schema.state import ResourceKey


def renumber_steps(moves: dict[ResourceKey, ResourceKey], present: Iterable[str],
                   final: Iterable[str], origins: dict[ResourceKey, Location],
                   reserved: Callable[[str], bool] = lambda number: False) -> list[Change]:
    """Steps taking each old key to its new number; `present` are the numbers in the
    tenant when renumbering starts, `final` those the config ends with, and
    `reserved` says which numbers a temporary one must not be (ignored numbers, those
    colliding with a feature code)."""
    if not moves:
        return []
    current = NumberSet(present)
    final_numbers = NumberSet(final)
    pending = sorted(moves.items())
    steps: list[Change] = []
    while pending:
        index = next((i for i, (old, new) in enumerate(pending)
                      if not current.collision(new.number, ignoring=old.number) is not None), None)
        if index is None:
            old, new = pending[0]
            parked = _temporary_number(current, final_numbers, reserved)
            steps.append(_step(old, parked, origins.get(new), heading_for=new.number))
            current.remove(old.number)
            current.add(parked)
            pending[0] = (old._replace(number=parked), new)
            continue
        old, new = pending.pop(index)
        steps.append(_step(old, new.number, origins.get(new)))
        current.remove(old.number)
        current.add(new.number)
    return steps


def _step(old: ResourceKey, number: str, origin: Location | None,
          heading_for: str | None = None) -> Change:
    parked = {"heading_for": heading_for} if heading_for else {}
    return Change(Action.RENUMBER, old, {"number": number},
                  (DiffItem(Operation.CHANGE, ("number",), old.number, number),),
                  origin=origin, heading_for=heading_for,
                  reason=ChangeReason.TEMPORARY_NUMBER if heading_for else None,
                  reason_args=parked)


def _temporary_number(current: NumberSet, final: NumberSet,
                      reserved: Callable[[str], bool]) -> str:
    for candidate in range(99999, 9999, -1):
        number = str(candidate)
        if current.collision(number) is None and final.collision(number) is None \
                and not reserved(number):
            return number
    raise ValueError("no free 5-digit number to renumber through")  # 90,000 all taken
