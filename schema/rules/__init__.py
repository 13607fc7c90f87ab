"""Cross-object rules: checks that need the whole tenant, not one field.

Each module holds one area; each check is a function from the config to the
problems it finds. `check` runs them all and returns every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from schema.declarations import TenantConfig
from schema.problems import Problem, sorted_problems
from schema.rules import licensing, membership, numbering, ownership, users

Check = Callable[[TenantConfig], Iterable[Problem]]

CHECKS: tuple[Check, ...] = (
    *numbering.CHECKS,
    *users.CHECKS,
    *membership.CHECKS,
    *licensing.CHECKS,
    *ownership.CHECKS,
)


def check(config: TenantConfig) -> list[Problem]:
    problems: list[Problem] = []
    for run in CHECKS:
        problems.extend(run(config))
    return sorted_problems(problems)
