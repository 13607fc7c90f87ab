"""Which tenant resources move to new numbers (`previous_extension`, `previous_number`),
worked out once per plan and matched by identity, not by number alone.

For each declared resource with a previous number, in order of trust:

1. **Done**: the tenant's resource at the declared number came from the previous
   number (the tenant records it). Nothing to do, whatever holds the old number now.
2. **Parked**: an interrupted swap left the resource on a temporary number; it is
   found by the number it came from, or by the number it is heading for.
3. **The tenant's resource at the previous number**, same kind and site, unless
   that one is itself a renumber already done (it is someone else now). A resource
   made by hand, or ignored, is never moved: it must be adopted first.
4. **Another kind or site** at the previous number: a type or site change cannot
   happen in place, so it is a *replace* (deleted, then created at the new number).
5. **Nothing**: if the new number does not exist either, the previous number is a
   mistake (`renumber.previous-unknown`).

A move happens when its new number is free, is vacated by another move (a chain,
or a swap through a temporary number), or is held by a managed resource the
config no longer keeps: a *leaver*, deleted first (taking over a leaver's number
in one pull request). A number held by a resource made by hand or ignored blocks
the move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schema.declarations import Declared, TenantConfig
from schema.kinds import can_be_member
from schema.state import ResourceKey, TenantState


@dataclass(frozen=True, slots=True)
class Renumbering:
    #: tenant key -> the declared key it moves to
    moves: dict[ResourceKey, ResourceKey] = field(default_factory=dict)
    #: managed resources holding a number another resource moves to; deleted first
    leavers: frozenset[ResourceKey] = frozenset()
    #: tenant resource of another kind or site -> the declared key that replaces it
    replaced_by: dict[ResourceKey, ResourceKey] = field(default_factory=dict)
    #: moves whose new number is held by a resource that may not be deleted
    blocked: tuple[tuple[Declared, ResourceKey], ...] = ()
    #: previous numbers that match nothing (the new number does not exist either)
    unknown: tuple[Declared, ...] = ()
    #: previous numbers held by resources this tool may not move (made by hand, ignored)
    untouchable: tuple[tuple[Declared, ResourceKey], ...] = ()
    _old: dict[ResourceKey, ResourceKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_old", {new: old for old, new in self.moves.items()})

    def new_of(self, key: ResourceKey) -> ResourceKey:
        """The key a tenant resource has once renumbered (itself if it does not move)."""
        return self.moves.get(key, key)

    def old_of(self, key: ResourceKey) -> ResourceKey:
        """The tenant key a resource has before renumbering (itself if it does not move)."""
        return self._old.get(key, key)

    def members_renamed(self, members: dict[str, Any]) -> dict[str, Any]:
        """A shared line's members, keyed by the numbers they have once renumbered."""
        numbers = {old.number: new.number for old, new in self.moves.items()
                   if can_be_member(old.kind)}
        if not numbers.keys() & members.keys():
            return members
        return {numbers.get(ext, ext): member for ext, member in members.items()}

    def members_before(self, members: dict[str, Any]) -> dict[str, Any]:
        """A shared line's members (named as renumbered) by the numbers they have now."""
        numbers = {new.number: old.number for old, new in self.moves.items()
                   if can_be_member(old.kind)}
        return {numbers.get(ext, ext): member for ext, member in members.items()}


def plan_renumbering(config: TenantConfig, live: TenantState) -> Renumbering:
    if not any(d.previous_key is not None for d in config.declared) and not live.parked:
        return Renumbering()
    finder = _Finder(config, live)
    for declared in config.declared:
        finder.place(declared)
    return finder.result()


class _Finder:
    def __init__(self, config: TenantConfig, live: TenantState) -> None:
        self.config = config
        self.live = live
        self.done = {d.key for d in config.declared if d.previous_key is not None
                     and live.renumbered_from.get(d.key) == d.previous_key.number}
        self.by_origin = {(k.site, k.kind, live.renumbered_from.get(k)): k for k in live.parked}
        self.by_target = {(k.site, k.kind, target): k for k, target in live.parked.items()}
        self.by_number: dict[str, list[ResourceKey]] = {}
        for key in live.resources:
            self.by_number.setdefault(key.number, []).append(key)
        self.declared_keys = {d.key for d in config.declared}
        self.candidates: dict[ResourceKey, Declared] = {}
        self.replaced_by: dict[ResourceKey, ResourceKey] = {}
        self.unknown: list[Declared] = []
        self.untouchable: list[tuple[Declared, ResourceKey]] = []

    def place(self, declared: Declared) -> None:
        if declared.key in self.done:
            return
        previous = declared.previous_key
        source = self.by_target.get((declared.site, declared.kind, declared.number))
        if previous is not None:
            source = self.by_origin.get((previous.site, previous.kind, previous.number), source)
            if source is None and previous in self.live.resources and previous not in self.done:
                source = previous
        if source is not None and source != declared.key:
            if not self.movable(source):
                self.untouchable.append((declared, source))
            elif source not in self.candidates:
                self.candidates[source] = declared
            return
        if previous is not None and previous != declared.key:
            self.elsewhere(declared, previous)

    def elsewhere(self, declared: Declared, previous: ResourceKey) -> None:
        """Nothing of the same kind and site holds the previous number."""
        others = [k for k in self.by_number.get(previous.number, ())
                  if k not in self.declared_keys and k != declared.key]
        if others and declared.key not in self.live.resources:
            other = others[0]
            if self.movable(other):
                self.replaced_by[other] = declared.key
            else:
                self.untouchable.append((declared, other))
        elif declared.key not in self.live.resources:
            self.unknown.append(declared)

    def movable(self, key: ResourceKey) -> bool:
        """May this tool move or delete the tenant's resource?"""
        if self.config.is_ignored(key.site, key.number):
            return False
        return key in self.live.managed or self.config.site(key.site).prune

    def result(self) -> Renumbering:
        valid: dict[int, bool] = {}
        leavers: set[ResourceKey] = set()
        settled: set[int] = set()
        for start in self.candidates.values():
            self.judge(start, valid, leavers, settled)
        moves = {source: d.key for source, d in self.candidates.items() if valid.get(id(d))}
        blocked = tuple((d, d.key) for d in self.candidates.values()
                        if not valid.get(id(d)) and id(d) not in settled
                        and d.key in self.live.resources)
        return Renumbering(moves, frozenset(leavers), self.replaced_by, blocked,
                           tuple(self.unknown), tuple(self.untouchable))

    def judge(self, start: Declared, valid: dict[int, bool], leavers: set[ResourceKey],
              settled: set[int]) -> None:
        """Follow who vacates each new number: a move is valid when the chain ends on a
        free number or a leaver, or closes into a cycle (a swap). A cycle whose every
        member already holds its declared values is settled: nothing moves, and nothing
        is in the way (a swap carried out before identities were recorded, or one done
        as deletes and creates: moved sites, changed kinds, new identities)."""
        path: list[Declared] = []
        node: Declared | None = start
        verdict = False
        while node is not None and id(node) not in valid:
            seen = [id(d) for d in path]
            if id(node) in seen:  # a cycle: every renumber in it moves, unless already done
                cycle = path[seen.index(id(node)):]
                verdict = not all(_already_holds(d, self.live) for d in cycle)
                for member in cycle:
                    valid[id(member)] = verdict
                    if not verdict:
                        settled.add(id(member))
                path = path[:seen.index(id(node))]
                break
            path.append(node)
            holder = node.key
            if holder not in self.live.resources:
                verdict = True
                break
            vacating = self.candidates.get(holder)
            if vacating is None:  # held by someone who is not moving away
                verdict = self.movable(holder)
                if verdict:
                    leavers.add(holder)
                break
            node = vacating
        else:
            verdict = valid.get(id(node), False) if node is not None else False
        for member in path:
            valid.setdefault(id(member), verdict)


def _already_holds(declared: Declared, live: TenantState) -> bool:
    """A swap carried out before the tenant recorded identities: every resource in the
    cycle already has its declared values."""
    wanted = declared.fields()
    current = live.resources.get(declared.key, {})
    return all(current.get(name) == value for name, value in wanted.items())
