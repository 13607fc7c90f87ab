"""Ordering package moves so each lands on a seat that is free at that moment."""

from __future__ import annotations

from collections import Counter

from reconciler.plans.changes import Change
from schema.kinds import takes_seat
from schema.state import TenantState


def in_seat_order(updates: list[Change], live: TenantState,
                  packages: dict[str, int]) -> list[Change]:
    """Updates without a package move first, then moves greedily as seats free up.

    A user moving to a full package waits for another to move off it. Packages
    only move up (downgrades are refused), so moves cannot form a cycle; if the
    seats still do not add up, the sorted order is kept and the tenant reports
    the missing seat when applied.
    """
    moves = [c for c in updates if "package" in c.fields]
    if not moves:
        return updates
    used = Counter(fields.get("package") for key, fields in live.resources.items()
                   if takes_seat(key.kind))
    ordered = [c for c in updates if "package" not in c.fields]
    while moves:
        ready = next((c for c in moves if _has_seat(c, used, packages)), moves[0])
        moves.remove(ready)
        ordered.append(ready)
        used[live.resources[ready.key].get("package")] -= 1
        used[ready.fields["package"]] += 1
    return ordered


def _has_seat(change: Change, used: Counter[str | None], packages: dict[str, int]) -> bool:
    package = change.fields.get("package")
    return package is None or used[package] < packages.get(package, 0)
