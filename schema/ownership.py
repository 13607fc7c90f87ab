"""Which tenant resources this tool may touch, from the tenant's markers and the config.

A resource this tool created or adopted is *managed*: removing it from the config
deletes it. A resource made by hand (or by directory sync) is *unmanaged* and
left alone unless its site sets `prune: true`. A resource matched by its site's
`ignore` list is never touched, managed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schema.declarations import TenantConfig
from schema.state import ResourceKey, TenantState


@dataclass(slots=True)
class Leftovers:
    """Tenant resources the config does not declare, sorted by what happens to them."""

    delete: list[ResourceKey] = field(default_factory=list)
    unmanaged: list[ResourceKey] = field(default_factory=list)
    ignored: list[ResourceKey] = field(default_factory=list)

    @property
    def left_alone(self) -> list[ResourceKey]:
        return [*self.unmanaged, *self.ignored]


def sort_leftovers(config: TenantConfig, live: TenantState, declared: set[ResourceKey],
                   renumbered_from: set[ResourceKey]) -> Leftovers:
    """`renumbered_from`: old keys that a renumber keeps alive under a new number."""
    result = Leftovers()
    for key in live.resources:
        if key in declared or key in renumbered_from:
            continue
        if config.is_ignored(key.site, key.number):
            result.ignored.append(key)
        elif key in live.managed or config.site(key.site).prune:
            result.delete.append(key)
        else:
            result.unmanaged.append(key)
    for bucket in (result.delete, result.unmanaged, result.ignored):
        bucket.sort()
    return result
