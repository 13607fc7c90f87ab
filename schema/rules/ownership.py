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
    """Each tenant resource is claimed once: by its own number, or as one renumber's
    previous number. (A swap is fine: there the previous numbers are new numbers of
    other renumbers, not resources kept as they are.)"""
    keys = {d.key: d for d in config.declared}
    claimed: dict[object, str] = {}
    for declared in config.declared:
        previous = declared.previous_key
        if previous is None:
            continue
        field = "previous_number" if declared.kind.value == "shared_line" \
            else "previous_extension"
        keeper = keys.get(previous)
        if keeper is not None and keeper.previous_key is None:
            yield Problem(
                rulebook.PREVIOUS_DECLARED.id,
                f"{field} {previous.number} is also declared as a resource "
                f"({keeper.at()}); a number is either kept or renumbered to "
                f"{declared.number}, remove one of them",
                declared.at(field),
            )
        elif previous in claimed:
            yield Problem(
                rulebook.PREVIOUS_DECLARED.id,
                f"{field} {previous.number} is already renumbered to {claimed[previous]}; "
                "one resource cannot become two",
                declared.at(field),
            )
        claimed[previous] = declared.number


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


def password_prefix(config: TenantConfig) -> Iterator[Problem]:
    """A password comes from a variable meant for it, never from CI's own secrets."""
    for declared in config.declared:
        ref = declared.password
        if ref is not None and not ref.env.startswith(config.secret_prefix):
            yield Problem(
                rulebook.SECRET_PREFIX.id,
                f"password variable {ref.env} does not start with {config.secret_prefix}; "
                f"name it {config.secret_prefix}... (e.g. {config.secret_prefix}"
                f"{declared.number}): only such variables may become passwords",
                declared.at("password", "env"),
            )


CHECKS = (declared_and_ignored, previous_not_declared, rotation_needs_password,
          password_prefix)
