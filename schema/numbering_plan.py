"""The numbering plan's collision rule, in one place: a number may not equal another,
start with another, or be the start of another (dialling 55 connects before 551
is complete). Used by the config rules, the plan-time ownership rule and the
renumbering planner alike.
"""

from __future__ import annotations

from collections.abc import Iterable

_SHORTEST = 2  # numbers are 2-5 digits, so prefixes that matter are 2-4 digits long


def prefixes(number: str) -> Iterable[str]:
    """The shorter numbers that would block `number`: its first 2, 3, ... digits."""
    return (number[:length] for length in range(_SHORTEST, len(number)))


class NumberSet:
    """Numbers in use, answering "what does this collide with?" without a scan:
    each number's own prefixes are looked up, and numbers are indexed by theirs."""

    def __init__(self, numbers: Iterable[str] = ()) -> None:
        self._numbers: set[str] = set()
        self._by_prefix: dict[str, set[str]] = {}
        for number in numbers:
            self.add(number)

    def add(self, number: str) -> None:
        self._numbers.add(number)
        for prefix in prefixes(number):
            self._by_prefix.setdefault(prefix, set()).add(number)

    def remove(self, number: str) -> None:
        self._numbers.discard(number)
        for prefix in prefixes(number):
            self._by_prefix.get(prefix, set()).discard(number)

    def collision(self, number: str, ignoring: str | None = None) -> str | None:
        """The number `number` collides with (equal, shorter or longer), if any;
        `ignoring` is left out, as a number that is about to move away."""
        if number in self._numbers and number != ignoring:
            return number
        shorter = next((p for p in prefixes(number) if p in self._numbers and p != ignoring),
                       None)
        if shorter is not None:
            return shorter
        return next((n for n in sorted(self._by_prefix.get(number, ())) if n != ignoring),
                    None)
