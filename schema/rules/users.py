"""Rules on users and hot desk users: devices, MAC addresses and unique logins."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from schema import devices, rulebook
from schema.declarations import Declared, TenantConfig
from schema.problems import Problem
from schema.resources import HotDeskUser, User
from schema.rules.repeats import repeats
from schema.state import Kind


def _users(config: TenantConfig) -> Iterator[tuple[Declared, User]]:
    for declared in config.of_kind(Kind.USER):
        assert isinstance(declared.resource, User)
        yield declared, declared.resource


def device_combination(config: TenantConfig) -> Iterator[Problem]:
    for declared, user in _users(config):
        phones, clients = devices.desk_phones(user.devices), devices.clients(user.devices)
        if len(phones) > 1 or len(clients) > 1:
            yield Problem(
                rulebook.DEVICE_COMBINATION.id,
                f"user {user.extension} lists {len(phones)} desk phone(s) and {len(clients)} "
                "client(s); a user has one client, one desk phone, or one desk phone plus "
                f"one client (known clients: {', '.join(sorted(devices.CLIENTS))})",
                declared.at("devices"),
            )


def mac_matches_devices(config: TenantConfig) -> Iterator[Problem]:
    for declared, user in _users(config):
        phones, clients = devices.desk_phones(user.devices), devices.clients(user.devices)
        if phones and clients and user.mac is None:
            yield Problem(
                rulebook.MAC_REQUIRED.id,
                f"user {user.extension} is multi client ({phones[0]} plus {clients[0]}) and "
                f"needs the {phones[0]}'s MAC address; add mac: <12 hex digits>",
                declared.at("devices"),
            )
        if not phones and user.mac is not None:
            yield Problem(
                rulebook.MAC_WITHOUT_PHONE.id,
                f"user {user.extension} is single client ({', '.join(clients)}) and has no "
                "desk phone for this MAC address; remove mac or add the desk phone to devices",
                declared.at("mac"),
            )


def _unique(
    config: TenantConfig, rule: rulebook.Rule, field: str, what: str,
    value_of: Callable[[Declared], str | None], kinds: tuple[Kind, ...],
) -> Iterator[Problem]:
    for declared, earlier, value in repeats(config.of_kind(*kinds), value_of):
        yield Problem(
            rule.id,
            f"{what} {value} is already used by {earlier.kind.value} {earlier.number} "
            f"({earlier.at(field)}); each {what} belongs to one user",
            declared.at(field),
        )


def _attribute(name: str) -> Callable[[Declared], str | None]:
    def value_of(declared: Declared) -> str | None:
        value = declared.value(name)
        return value if isinstance(value, str) else None

    return value_of


_BOTH = (Kind.USER, Kind.HOT_DESK_USER)


def unique_aad_ids(config: TenantConfig) -> Iterator[Problem]:
    return _unique(config, rulebook.AAD_DUPLICATE, "aad_id", "MS AAD account",
                   _attribute("aad_id"), _BOTH)


def unique_portal_ids(config: TenantConfig) -> Iterator[Problem]:
    return _unique(config, rulebook.PORTAL_ID_DUPLICATE, "portal_id", "portal ID",
                   _attribute("portal_id"), _BOTH)


def unique_macs(config: TenantConfig) -> Iterator[Problem]:
    return _unique(config, rulebook.MAC_DUPLICATE, "mac", "MAC address",
                   _attribute("mac"), (Kind.USER,))


def aad_needs_platform_5(config: TenantConfig) -> Iterator[Problem]:
    settings = config.settings
    if settings.platform_at_least("5.0"):
        return
    for declared in config.of_kind(*_BOTH):
        assert isinstance(declared.resource, User | HotDeskUser)
        if declared.resource.aad_id is not None:
            yield Problem(
                rulebook.AAD_PLATFORM.id,
                f"aad_id needs platform 5.0 or later (tenant.yaml says "
                f"{settings.platform_version}); remove it until the tenant is upgraded",
                declared.at("aad_id"),
            )


CHECKS = (device_combination, mac_matches_devices, unique_aad_ids, unique_portal_ids,
          unique_macs, aad_needs_platform_5)
