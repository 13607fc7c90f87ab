"""The numbering plan: users, hot desk users and shared lines share one set of numbers."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import Declared, TenantConfig
from schema.kinds import describe
from schema.numbering_plan import _SHORTEST, prefixes
from schema.problems import Problem
from schema.rules.repeats import repeats


def _number_field(declared: Declared) -> str:
    return describe(declared.kind).number_field


#: Neutral: which of the two a pull request added, the files do not say.
_KEEP_ONE = "a number is used once in the tenant: keep it on one, give the other a free one"


def duplicate_numbers(config: TenantConfig) -> Iterator[Problem]:
    """Reported on both declarations, so the one a pull request added carries it
    whichever file sorts first (a reviewer looks at the lines the pull request added)."""
    for declared, earlier, _ in repeats(config.declared, lambda d: d.number):
        yield Problem(
            rulebook.NUMBER_DUPLICATE.id,
            f"number {declared.number} is already used by {earlier.kind.value} "
            f"{earlier.number} at {earlier.at(_number_field(earlier))}; {_KEEP_ONE}",
            declared.at(_number_field(declared)),
        )
        yield Problem(
            rulebook.NUMBER_DUPLICATE.id,
            f"number {earlier.number} is also used by {declared.kind.value} "
            f"{declared.number} at {declared.at(_number_field(declared))}; {_KEEP_ONE}",
            earlier.at(_number_field(earlier)),
        )


def prefix_collisions(config: TenantConfig) -> Iterator[Problem]:
    """A number that starts another blocks it: dialling 55 connects before 551 is complete.

    Each number looks up its own shorter prefixes (at most 3 for a 5-digit number)
    in a set, so this stays linear in the size of the tenant.
    """
    owners = {d.key.number: d for d in config.declared}
    owner = owners.get
    for declared in config.declared:
        number = declared.key.number
        if len(number) <= _SHORTEST:
            continue  # nothing shorter can block it
        for prefix in prefixes(number):
            blocker = owner(prefix)
            if blocker is not None:
                yield Problem(
                    rulebook.NUMBER_PREFIX.id,
                    f"number {number} starts with {blocker.kind.value} {blocker.number} "
                    f"({blocker.at(_number_field(blocker))}), so it can never be dialled; "
                    "renumber one of them",
                    declared.at(_number_field(declared)),
                )
                break


def feature_code_collisions(config: TenantConfig) -> Iterator[Problem]:
    codes = config.settings.feature_codes
    if not codes:
        return
    for declared in config.declared:
        number = declared.number
        for name, code in codes.items():
            if number.startswith(code) or code.startswith(number):
                yield Problem(
                    rulebook.FEATURE_CODE_COLLISION.id,
                    f"number {number} collides with feature code {name} ({code}); a number "
                    "may not equal, start or be started by a feature code, renumber it",
                    declared.at(_number_field(declared)),
                )


def duplicate_direct_dial_numbers(config: TenantConfig) -> Iterator[Problem]:
    for declared, earlier, value in repeats(config.declared,
                                            _direct_dial_number):
        yield Problem(
            rulebook.DIRECT_DIAL_DUPLICATE.id,
            f"direct dial number {value} already rings {earlier.kind.value} "
            f"{earlier.number} ({earlier.at('direct_dial_number')}); a direct dial "
            "number has one destination",
            declared.at("direct_dial_number"),
        )


def _direct_dial_number(declared: Declared) -> str | None:
    """Any kind may have a direct dial number; a kind without one has none."""
    number: str | None = declared.value("direct_dial_number")
    return number


CHECKS = (duplicate_numbers, prefix_collisions, feature_code_collisions,
          duplicate_direct_dial_numbers)
