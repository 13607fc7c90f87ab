"""Renumbering in place (`previous_extension:` / `previous_number:`), swaps included.

A renumber keeps the resource and its memberships; it runs after every delete
(so a freed number can be taken) and before any create. Moves are done in an
order where each new number is free when taken; a cycle (A takes B's number
while B takes A's) is broken by parking one resource on a temporary free
number first, and the plan says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from reconciler.diffs import DiffItem, Operation
from reconciler.plans.changes import Action, Change
from schema.locations import Location
from schema.state import ResourceKey


class _Numbers:
    """A set of numbers that answers "does this collide with any?" in O(1):
    equal to one, starting with one, or started by one (the numbering-plan rule)."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self.numbers: set[str] = set()
        self.prefixes: Counter[str] = Counter()
        for number in numbers:
            self.add(number)

    def add(self, number: str) -> None:
        self.numbers.add(number)
        self.prefixes.update(number[:n] for n in range(2, len(number)))

    def remove(self, number: str) -> None:
        self.numbers.discard(number)
        self.prefixes.subtract(number[:n] for n in range(2, len(number)))

    def collides(self, number: str, ignoring: str | None = None) -> bool:
        if ignoring is not None:
            self.remove(ignoring)
        try:
            return (number in self.numbers or self.prefixes[number] > 0
                    or any(number[:n] in self.numbers for n in range(2, len(number))))
        finally:
            if ignoring is not None:
                self.add(ignoring)


def renumber_steps(moves: dict[ResourceKey, ResourceKey], present: Iterable[str],
                   final: Iterable[str], origins: dict[ResourceKey, Location]) -> list[Change]:
    """Steps taking each old key to its new number; `present` are the numbers in the
    tenant when renumbering starts, `final` those the config ends with."""
    if not moves:
        return []
    current = _Numbers(present)
    final_numbers = _Numbers(final)
    pending = sorted(moves.items())
    steps: list[Change] = []
    while pending:
        index = next((i for i, (old, new) in enumerate(pending)
                      if not current.collides(new.number, ignoring=old.number)), None)
        if index is None:
            old, new = pending[0]
            parked = _temporary_number(current, final_numbers)
            steps.append(_step(old, parked, origins.get(new),
                               f"temporary number, so that {new.number} can be freed"))
            current.remove(old.number)
            current.add(parked)
            pending[0] = (old._replace(number=parked), new)
            continue
        old, new = pending.pop(index)
        steps.append(_step(old, new.number, origins.get(new), ""))
        current.remove(old.number)
        current.add(new.number)
    return steps


def _step(old: ResourceKey, number: str, origin: Location | None, note: str) -> Change:
    return Change(Action.RENUMBER, old, {"number": number},
                  (DiffItem(Operation.CHANGE, ("number",), old.number, number),),
                  origin=origin, note=note)


def _temporary_number(current: _Numbers, final: _Numbers) -> str:
    for candidate in range(99999, 9999, -1):
        number = str(candidate)
        if not current.collides(number) and not final.collides(number):
            return number
    raise ValueError("no free 5-digit number to renumber through")  # 90,000 all taken
