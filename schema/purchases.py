"""tenant.yaml's facts against the tenant's: what was bought, and what cannot be.

A pull request that raises seats or licences says what was bought in the portal: the
plan shows it and the apply after merge records it, first, so the steps that need the
new seats find them (`applying`). Nobody runs a command against a shared tenant from
an unmerged branch. What was bought:

- more seats of a package, or a package not listed before (placed anywhere in the
  upgrade order, as long as the packages already listed keep their order);
- more shared-line licences; Shared licensing switched on.

Anything else (fewer seats, a package gone, licensing switched off, another platform
version, the upgrade order changed) is not a purchase: tenant.yaml must match the
tenant, and the plan refuses it (`rules.live.facts_agree`).
"""

from __future__ import annotations

from dataclasses import dataclass

from schema.state import TenantFacts


@dataclass(frozen=True, slots=True)
class FactChange:
    """One fact tenant.yaml states otherwise than the tenant: its name as a reviewer reads
    it, where it is in tenant.yaml, the tenant's value and tenant.yaml's."""

    name: str
    path: tuple[str, ...]
    old: object
    new: object

    @property
    def bought(self) -> bool:
        if isinstance(self.old, bool) or isinstance(self.new, bool):
            return self.old is False and self.new is True
        if self.path[0] == "packages" and len(self.path) == 2:
            return isinstance(self.new, int) and (self.old is None or (
                isinstance(self.old, int) and self.new > self.old))
        if self.path == ("licences", "shared_lines"):
            return isinstance(self.new, int) and isinstance(self.old, int) \
                and self.new > self.old
        return False


@dataclass(frozen=True, slots=True)
class Purchase:
    """What a plan records before its first step: the facts as tenant.yaml states them,
    and each one that changes."""

    changes: tuple[FactChange, ...]
    after: TenantFacts


def fact_changes(declared: TenantFacts, live: TenantFacts) -> list[FactChange]:
    """Every fact that differs, in the order tenant.yaml lists them."""
    found = [FactChange(name, path, old, new) for name, path, new, old in (
        ("platform_version", ("platform_version",), declared.platform_version,
         live.platform_version),
        ("licences.shared_lines", ("licences", "shared_lines"), declared.shared_line_licences,
         live.shared_line_licences),
        ("licences.shared_licensing", ("licences", "shared_licensing"),
         declared.shared_licensing, live.shared_licensing),
    ) if new != old]
    for package in [*declared.packages, *(p for p in live.packages if p not in declared.packages)]:
        new, old = declared.packages.get(package), live.packages.get(package)
        if new != old:
            found.append(FactChange(f"packages.{package}", ("packages", package), old, new))
    both = [p for p in declared.packages if p in live.packages]
    was = [p for p in live.packages if p in declared.packages]
    if both != was:
        found.append(FactChange("packages (upgrade order)", ("packages",), was, both))
    return found


def purchase(declared: TenantFacts, live: TenantFacts | None) -> Purchase | None:
    """The facts to record before the first step, if every difference is bought (the
    plan refuses the others before it is made); None when they agree."""
    if live is None:
        return None  # a tenant that does not exist yet is set up with tenant.yaml's facts
    changes = fact_changes(declared, live)
    if not changes or not all(change.bought for change in changes):
        return None
    return Purchase(tuple(changes), declared)
