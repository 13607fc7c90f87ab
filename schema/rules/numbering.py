"""The numbering plan: users, hot desk users and shared lines share one set of numbers."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import Declared, TenantConfig
from schema.problems import Problem


def _number_field(declared: Declared) -> str:
    return "extension" if declared.kind.is_user else "number"


def duplicate_numbers(config: TenantConfig) -> Iterator[Problem]:
    first: dict[str, Declared] = {}
    for declared in config.declared:
        earlier = first.setdefault(declared.number, declared)
        if earlier is declared:
            continue
        yield Problem(
            rulebook.NUMBER_DUPLICATE.id,
            f"number {declared.number} is already used by {earlier.kind.value} "
            f"{earlier.number} at {earlier.at(_number_field(earlier))}; "
            "a number is used once in the tenant, pick a free one",
            declared.at(_number_field(declared)),
        )


CHECKS = (duplicate_numbers,)
