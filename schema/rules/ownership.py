"""Config-only rules on ownership, renumbering and write-only fields."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import TenantConfig
from schema.problems import Problem
from schema.resources import HotDeskUser, User


def declared_and_ignored(config: TenantConfig) -> Iterator[Problem]:
    for declared in config.declared:
        if config.is_ignored(declared.site, declared.number):
            yield Problem(
                rulebook.DECLARED_AND_IGNORED.id,
                f"{declared.kind.value} {declared.number} is declared but site {declared.site} "
                "ignores it (site.ignore); remove it from the ignore list or from the config",
                declared.at(),
            )


def previous_not_declared(config: TenantConfig) -> Iterator[Problem]:
    numbers = {d.number for d in config.declared}
    for declared in config.declared:
        previous = declared.previous_key
        if previous is not None and previous.number in numbers:
            field = "previous_number" if declared.kind.value == "shared_line" \
                else "previous_extension"
            yield Problem(
                rulebook.PREVIOUS_DECLARED.id,
                f"{field} {previous.number} is also declared as a resource; a number is "
                f"either kept or renumbered to {declared.number}, remove one of them",
                declared.at(field),
            )


def rotation_needs_password(config: TenantConfig) -> Iterator[Problem]:
    for declared in config.declared:
        resource = declared.resource
        if isinstance(resource, User | HotDeskUser) and resource.password_rotation is not None \
                and resource.password is None:
            yield Problem(
                rulebook.ROTATION_WITHOUT_PASSWORD.id,
                "password_rotation asks to set the password again, but there is no password; "
                "add password: {env: VARIABLE_NAME}",
                declared.at("password_rotation"),
            )


CHECKS = (declared_and_ignored, previous_not_declared, rotation_needs_password)
