"""Plan-time counts: seats and shared-line licences are used by the resources this tool
leaves alone (made by hand, or ignored) as well as by the declared ones, so a plan that
validates never runs out of a seat or a licence half way through its apply."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from schema import rulebook
from schema.declarations import TenantConfig
from schema.kinds import takes_licence, takes_seat
from schema.ownership import Leftovers
from schema.problems import Problem
from schema.resources import HotDeskUser, User
from schema.state import Kind, ResourceKey, TenantState


def seats_and_licences(config: TenantConfig, live: TenantState, leftovers: Leftovers
                       ) -> Iterator[Problem]:
    staying = leftovers.left_alone
    if not staying:
        return
    yield from _seats(config, live, [k for k in staying if takes_seat(k.kind)])
    lines = [k for k in staying if takes_licence(k.kind)]
    declared = sum(1 for _ in config.of_kind(Kind.SHARED_LINE))
    allowed = config.settings.licences.shared_lines
    if lines and declared + len(lines) > allowed:
        yield Problem(
            rulebook.SHARED_LINE_LICENCES.id,
            f"the tenant has {allowed} shared-line licences; {declared} declared shared lines "
            f"and {len(lines)} this tool leaves alone ({_few(lines)}) need "
            f"{declared + len(lines)}; remove some, delete the others in the portal (or set "
            "prune: true on their site), or buy licences",
            config.settings_source.locate(("licences", "shared_lines")))


def _seats(config: TenantConfig, live: TenantState, users: list[ResourceKey]
           ) -> Iterator[Problem]:
    if not users:
        return
    left: Counter[str] = Counter(str(live.resources[k].get("package")) for k in users)
    declared: Counter[str] = Counter(
        d.resource.package for d in config.of_kind(Kind.USER, Kind.HOT_DESK_USER)
        if isinstance(d.resource, User | HotDeskUser))
    for package, seats in config.settings.packages.items():
        needed = declared[package] + left[package]
        if left[package] and needed > seats:
            holders = [k for k in users if live.resources[k].get("package") == package]
            yield Problem(
                rulebook.PACKAGE_SEATS.id,
                f"package '{package}' has {seats} seats; {declared[package]} declared users "
                f"and {left[package]} this tool leaves alone ({_few(holders)}) need {needed}; "
                "move users to another package, delete some in the portal (or set prune: "
                "true on their site), or buy seats",
                config.settings_source.locate(("packages", package)))


def _few(keys: list[ResourceKey]) -> str:
    shown = ", ".join(f"{k.number} in {k.site}" for k in sorted(keys)[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
