"""Which tenant resources this tool may touch, from the tenant's markers and the config.

A resource this tool created or adopted is *managed*: removing it from the config
deletes it. A resource made by hand (or by directory sync) is *unmanaged* and
left alone unless its site sets `prune: true`. A resource matched by its site's
`ignore` list is never touched, managed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schema.declarations import Declared, TenantConfig
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


def find_renumbers(config: TenantConfig, live: TenantState) -> dict[ResourceKey, ResourceKey]:
    """Tenant key -> new key, for each declared resource to renumber now.

    Resources are matched by identity, not by number alone (`_sources`). A move
    happens when its new number is free, or is being vacated by another move (a
    chain, or a swap / cycle). Once applied the config plans nothing more: the
    tenant records the number each renumbered resource came from. So
    `previous_extension` can stay in the YAML.
    """
    return {source: d.key for source, d in _renumbering(config, live).items()}


def blocked_renumbers(config: TenantConfig, live: TenantState) -> list[Declared]:
    """Renumbers that cannot happen: the new number is taken, nothing vacates it, and
    the old number is declared by nobody (so it would be deleted, not renumbered)."""
    chosen = {id(d) for d in _renumbering(config, live).values()}
    declared_keys = {d.key for d in config.declared}
    return [d for d in _sources(config, live).values()
            if id(d) not in chosen and d.key in live.resources
            and d.previous_key is not None and d.previous_key not in declared_keys]


def _sources(config: TenantConfig, live: TenantState) -> dict[ResourceKey, Declared]:
    """For each declared resource that has somewhere to move from, that tenant key.

    In order of trust:
    1. Done: the tenant's resource at the declared number came from the previous
       number (the tenant recorded it). Nothing to move, whatever now holds the
       previous number.
    2. Parked: an interrupted swap left the resource on a temporary number; it is
       found by the number it came from, or by the number it is heading for.
    3. The tenant's resource at the previous number, unless that one is itself a
       renumber already done (it is someone else now).
    """
    if not live.resources:
        return {}
    done = {d.key for d in config.declared if d.previous_key is not None
            and live.renumbered_from.get(d.key) == d.previous_key.number}
    by_origin = {(k.site, k.kind, live.renumbered_from.get(k)): k for k in live.parked}
    by_target = {(k.site, k.kind, target): k for k, target in live.parked.items()}
    sources: dict[ResourceKey, Declared] = {}
    for declared in config.declared:
        if declared.key in done:
            continue
        previous = declared.previous_key
        source = by_target.get((declared.site, declared.kind, declared.number))
        if previous is not None:
            source = by_origin.get((previous.site, previous.kind, previous.number), source)
            if source is None and previous in live.resources and previous not in done:
                source = previous
        if source is not None and source != declared.key and source not in sources:
            sources[source] = declared
    return sources


def _renumbering(config: TenantConfig, live: TenantState) -> dict[ResourceKey, Declared]:
    """The moves that can happen now, by the tenant key they move from."""
    candidates = _sources(config, live)
    valid: dict[int, bool] = {}
    for start in candidates.values():
        path: list[Declared] = []
        node: Declared | None = start
        verdict = False
        while node is not None and id(node) not in valid:
            seen = [id(d) for d in path]
            if id(node) in seen:  # a cycle: every renumber in it moves, unless already done
                cycle = path[seen.index(id(node)):]
                verdict = not all(_already_holds(d, live) for d in cycle)
                for member in cycle:
                    valid[id(member)] = verdict
                path = path[:seen.index(id(node))]
                break
            path.append(node)
            if node.key not in live.resources:
                verdict = True
                break
            node = candidates.get(node.key)  # who vacates my new number?
        else:
            verdict = valid.get(id(node), False) if node is not None else False
        for member in path:
            valid.setdefault(id(member), verdict)
    return {source: d for source, d in candidates.items() if valid.get(id(d))}


def _already_holds(declared: Declared, live: TenantState) -> bool:
    wanted = declared.fields()
    current = live.resources.get(declared.key, {})
    return all(current.get(name) == value for name, value in wanted.items())
