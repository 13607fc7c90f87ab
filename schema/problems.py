"""A problem found in the configuration: which rule, where, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from schema.locations import Location
from schema.printable import printable


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule at one place; `rule` is a stable identifier users can grep for."""

    rule: str
    message: str
    location: Location
    #: the site whose files it is in; None for tenant.yaml and the tree's layout, which
    #: concern every site (a site filter keeps those). Set where it is found, by the
    #: loader, so nothing works it out from a path.
    site: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return printable(f"{self.location}: {self.message} [{self.rule}]")

    def in_site(self, site: str | None) -> Problem:
        return self if site == self.site else replace(self, site=site)


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """Order problems as a reader scans files: by path, then line, then column."""
    return sorted(
        problems,
        key=lambda p: (p.location.path, p.location.line, p.location.column, p.rule),
    )
