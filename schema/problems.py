"""A problem found in the configuration: which rule, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from schema.locations import Location
from schema.printable import printable


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule at one place; `rule` is a stable identifier users can grep for."""

    rule: str
    message: str
    location: Location

    def __str__(self) -> str:
        return printable(f"{self.location}: {self.message} [{self.rule}]")


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """Order problems as a reader scans files: by path, then line, then column."""
    return sorted(
        problems,
        key=lambda p: (p.location.path, p.location.line, p.location.column, p.rule),
    )
