"""Rules that need the tenant's current state as well as the config (checked at plan time)."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import TenantConfig
from schema.problems import Problem, sorted_problems
from schema.settings import declared_facts
from schema.state import TenantState


def check_against_live(config: TenantConfig, live: TenantState) -> list[Problem]:
    return sorted_problems([*facts_agree(config, live), *no_package_downgrades(config, live)])


def facts_agree(config: TenantConfig, live: TenantState) -> Iterator[Problem]:
    """tenant.yaml's facts drive the rules, so they must be the tenant's real ones."""
    if live.facts is None:
        return
    declared = declared_facts(config.settings)
    comparisons = (
        ("platform_version", ("platform_version",), declared.platform_version,
         live.facts.platform_version),
        ("licences.shared_lines", ("licences", "shared_lines"), declared.shared_line_licences,
         live.facts.shared_line_licences),
        ("licences.shared_licensing", ("licences", "shared_licensing"),
         declared.shared_licensing, live.facts.shared_licensing),
    )
    for name, path, ours, theirs in comparisons:
        if ours != theirs:
            yield _mismatch(config, name, path, ours, theirs)
    for package in sorted(set(declared.packages) | set(live.facts.packages)):
        ours_seats = declared.packages.get(package)
        theirs_seats = live.facts.packages.get(package)
        if ours_seats != theirs_seats:
            yield _mismatch(config, f"packages.{package}", ("packages", package),
                            ours_seats, theirs_seats)
    if list(declared.packages) != list(live.facts.packages) and \
            set(declared.packages) == set(live.facts.packages):
        yield _mismatch(config, "packages (upgrade order)", ("packages",),
                        list(declared.packages), list(live.facts.packages))


def _mismatch(config: TenantConfig, name: str, path: tuple[str, ...], ours: object,
              theirs: object) -> Problem:
    return Problem(
        rulebook.FACTS_MISMATCH.id,
        f"tenant.yaml says {name} is {_spell(ours)} but the tenant reports {_spell(theirs)}; "
        "make tenant.yaml match the tenant (the rules depend on it)",
        config.settings_source.locate(path),
    )


def _spell(value: object) -> str:
    if value is None:
        return "nothing (not listed)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def no_package_downgrades(config: TenantConfig, live: TenantState) -> Iterator[Problem]:
    settings = config.settings
    for declared in config.declared:
        current = live.resources.get(declared.key)
        wanted = getattr(declared.resource, "package", None)
        if current is None or wanted is None or current.get("package") == wanted:
            continue
        old_rank = settings.package_rank(current["package"])
        new_rank = settings.package_rank(wanted)
        if old_rank is not None and new_rank is not None and new_rank < old_rank:
            yield Problem(
                rulebook.PACKAGE_DOWNGRADE.id,
                f"{declared.kind.value} {declared.number} is on package "
                f"'{current['package']}'; moving it to '{wanted}' is a downgrade, which the "
                "portal does not allow (packages are listed in upgrade order in tenant.yaml); "
                f"keep '{current['package']}' or choose a later package",
                declared.at("package"),
            )
