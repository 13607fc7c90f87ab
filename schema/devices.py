"""Telling clients from desk phones in a user's `devices` list.

The portal's device column pairs a desk phone with a client ("1030,iPECS One
Premium"). A user with only a client is a *single client* user; a desk phone plus
a client is a *multi client* user, which needs the phone's MAC address
(FACTS.md 2.1, the iPECS2Teams page). Anything not named here as a client is
taken to be a desk phone or handset (1030, 1030is, IP-DECT 110, ...).
"""

from __future__ import annotations

CLIENTS = frozenset({
    "iPECS One",
    "iPECS One Premium",
    "iPECS One Standard",
    "MS Teams Connect",
    "UCE",
})


def is_client(device: str) -> bool:
    return device in CLIENTS


def desk_phones(devices: list[str]) -> list[str]:
    return [d for d in devices if not is_client(d)]


def clients(devices: list[str]) -> list[str]:
    return [d for d in devices if is_client(d)]


def in_portal_order(devices: list[str]) -> list[str]:
    """Desk phone first, then the client, as the portal lists them ("1030,iPECS One
    Premium"): the order has no meaning, so writing them the other way round is not a
    change."""
    return [*desk_phones(devices), *clients(devices)]
