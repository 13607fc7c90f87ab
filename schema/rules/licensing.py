"""Licence counts: shared lines and user packs the tenant owns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from schema import rulebook
from schema.declarations import Declared, TenantConfig
from schema.problems import Problem
from schema.resources import HotDeskUser, User
from schema.state import Kind


def shared_line_licences(config: TenantConfig) -> Iterator[Problem]:
    lines = list(config.of_kind(Kind.SHARED_LINE))
    allowed = config.settings.licences.shared_lines
    if len(lines) > allowed:
        first_over = lines[allowed]
        yield Problem(
            rulebook.SHARED_LINE_LICENCES.id,
            f"{len(lines)} shared lines are declared but the tenant has {allowed} shared-line "
            f"licences; remove {len(lines) - allowed} or raise licences.shared_lines in "
            "tenant.yaml after buying more",
            first_over.at("number"),
        )


def _package_users(config: TenantConfig) -> Iterator[tuple[Declared, str]]:
    for declared in config.of_kind(Kind.USER, Kind.HOT_DESK_USER):
        assert isinstance(declared.resource, User | HotDeskUser)
        yield declared, declared.resource.package


def unknown_packages(config: TenantConfig) -> Iterator[Problem]:
    owned = config.settings.packages
    for declared, package in _package_users(config):
        if package not in owned:
            known = ", ".join(sorted(owned)) or "none listed"
            yield Problem(
                rulebook.PACKAGE_UNKNOWN.id,
                f"package '{package}' is not one the tenant owns ({known}); use one of them "
                "or add it under packages in tenant.yaml",
                declared.at("package"),
            )


def package_seats(config: TenantConfig) -> Iterator[Problem]:
    owned = config.settings.packages
    used: Counter[str] = Counter()
    for declared, package in _package_users(config):
        used[package] += 1
        seats = owned.get(package)
        if seats is not None and used[package] == seats + 1:
            total = sum(1 for _, p in _package_users(config) if p == package)
            yield Problem(
                rulebook.PACKAGE_SEATS.id,
                f"{total} users are on package '{package}' but the tenant owns {seats} seats; "
                "move users to another package or order more seats and update tenant.yaml",
                declared.at("package"),
            )


CHECKS = (shared_line_licences, unknown_packages, package_seats)
