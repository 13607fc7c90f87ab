"""Rules that need the tenant's current state as well as the config (checked at plan time)."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.canonical import UNIQUE_FIELDS
from schema.declarations import Declared, TenantConfig
from schema.locations import Location
from schema.numbering_plan import NumberSet
from schema.ownership import Leftovers
from schema.problems import Problem, sorted_problems
from schema.purchases import fact_changes
from schema.renumbering import Renumbering
from schema.rules import capacity, renumbers
from schema.settings import declared_facts
from schema.state import ResourceKey, TenantState


def check_against_live(config: TenantConfig, live: TenantState, renumbering: Renumbering,
                       leftovers: Leftovers) -> list[Problem]:
    """`renumbering` and `leftovers` are worked out once by the planner for this config
    and tenant, and shared with the rules."""
    return sorted_problems([
        *facts_agree(config, live),
        *no_package_downgrades(config, live, renumbering.moves),
        *renumbers.problems(config, renumbering),
        *no_conflict_with_left_alone(config, live, leftovers),
        *capacity.seats_and_licences(config, live, leftovers),
    ])


def no_conflict_with_left_alone(config: TenantConfig, live: TenantState,
                                leftovers: Leftovers) -> Iterator[Problem]:
    """A declared resource may not need what an untouchable tenant resource holds."""
    if not leftovers.left_alone:
        return
    holders = {key.number: key for key in leftovers.left_alone}
    numbers = NumberSet(holders)
    values = {(name, live.resources[key][name]): key for key in leftovers.left_alone
              for name in UNIQUE_FIELDS if live.resources[key].get(name) is not None}
    for declared in config.declared:
        blocker = numbers.collision(declared.number)
        holder = holders[blocker] if blocker is not None else None
        fields = declared.fields()
        held = [(name, values[(name, fields[name])]) for name in UNIQUE_FIELDS
                if (name, fields.get(name)) in values]
        if holder is not None:
            yield _conflict(declared, declared.at(), f"number {declared.number}", holder,
                            "equal to or starting" if holder.number != declared.number
                            else "used by")
        for name, owner in held:
            yield _conflict(declared, declared.at(name), f"{name} {fields[name]}", owner,
                            "held by")


def _conflict(declared: Declared, where: Location, what: str, holder: ResourceKey,
              relation: str) -> Problem:
    return Problem(
        rulebook.OWNERSHIP_CONFLICT.id,
        f"{what} collides with {holder} in site {holder.site} ({relation}), which this tool "
        "does not manage and leaves alone; change it in the portal, declare it here to "
        "adopt it, or set prune: true on its site",
        where, declared.site,
    )


def facts_agree(config: TenantConfig, live: TenantState) -> Iterator[Problem]:
    """tenant.yaml's facts drive the rules, so they must be the tenant's real ones, or
    more of them: a purchase, which the plan records (`schema.purchases`)."""
    if live.facts is None:
        return
    for change in fact_changes(declared_facts(config.settings), live.facts):
        if not change.bought:
            yield _mismatch(config, change.name, change.path, change.new, change.old)


def _mismatch(config: TenantConfig, name: str, path: tuple[str, ...], ours: object,
              theirs: object) -> Problem:
    return Problem(
        rulebook.FACTS_MISMATCH.id,
        f"tenant.yaml says {name} is {_spell(ours)} but the tenant reports {_spell(theirs)}; "
        "make tenant.yaml match the tenant (the rules depend on it). Only a purchase (more "
        "seats, a new package, more licences, Shared licensing on) is planned and recorded "
        "by the apply; for anything else on the embedded local tenant, `reconcile "
        "local-tenant set-facts` records it",
        config.settings_source.locate(path),
    )


def _spell(value: object) -> str:
    if value is None:
        return "nothing (not listed)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def no_package_downgrades(config: TenantConfig, live: TenantState,
                          moves: dict[ResourceKey, ResourceKey]) -> Iterator[Problem]:
    settings = config.settings
    # A renumbered resource is the tenant's resource under its previous number.
    was = {new: old for old, new in moves.items()}
    for declared in config.declared:
        current = live.resources.get(was.get(declared.key, declared.key))
        wanted = declared.value("package")
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
                declared.at("package"), declared.site,
            )
