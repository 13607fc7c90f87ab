"""Who may be a member of a shared line."""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import Declared, TenantConfig
from schema.kinds import has_members
from schema.problems import Problem
from schema.resources import HotDeskUser, Member, User
from schema.state import Kind


def _members(config: TenantConfig) -> Iterator[tuple[Declared, int, Member]]:
    lines = (kind for kind in Kind if has_members(kind))
    for declared in config.of_kind(*lines):
        members: list[Member] = getattr(declared.resource, "members")  # noqa: B009
        for index, member in enumerate(members):
            yield declared, index, member


def _users_by_extension(config: TenantConfig) -> dict[str, Declared]:
    return config.index("users by extension", lambda: {
        d.key.number: d for d in config.of_kind(Kind.USER, Kind.HOT_DESK_USER)})


def unknown_members(config: TenantConfig) -> Iterator[Problem]:
    users = _users_by_extension(config)
    for line, index, member in _members(config):
        if member.extension not in users and member.extension not in config.unparsed_numbers:
            yield Problem(
                rulebook.MEMBER_UNKNOWN.id,
                f"shared line {line.number} lists member {member.extension}, which is not a "
                "user or hot desk user of this tenant; declare that user or remove the member",
                line.at("members", index, "extension"),
            )


def cross_site_members(config: TenantConfig) -> Iterator[Problem]:
    """A user joins another site's shared line only as a multi-site group member.

    Inferred from the portal's Group Member Type field; a user who leaves the
    field out is taken as the portal's default, single site."""
    users = _users_by_extension(config)
    for line, index, member in _members(config):
        user = users.get(member.extension)
        if user is None or user.site == line.site:
            continue
        assert isinstance(user.resource, User | HotDeskUser)
        if user.resource.group_member_type != "multi_site":
            yield Problem(
                rulebook.MEMBER_CROSS_SITE.id,
                f"{user.kind.value} {member.extension} is in site {user.site} but shared line "
                f"{line.number} is in site {line.site}; set group_member_type: multi_site on "
                f"the user ({user.at()}) or choose a member of site {line.site}",
                line.at("members", index, "extension"),
            )


def duplicate_members(config: TenantConfig) -> Iterator[Problem]:
    seen: set[tuple[str, str]] = set()
    for line, index, member in _members(config):
        pair = (line.number, member.extension)
        if pair in seen:
            yield Problem(
                rulebook.MEMBER_DUPLICATE.id,
                f"member {member.extension} is listed twice on shared line {line.number}; "
                "keep one entry",
                line.at("members", index, "extension"),
            )
        seen.add(pair)


def hot_desk_members(config: TenantConfig) -> Iterator[Problem]:
    settings = config.settings
    users = _users_by_extension(config)
    for line, index, member in _members(config):
        user = users.get(member.extension)
        if user is None or user.kind is not Kind.HOT_DESK_USER:
            continue
        where = line.at("members", index, "extension")
        if not settings.platform_at_least("6.0"):
            yield Problem(
                rulebook.HOT_DESK_MEMBER_PLATFORM.id,
                f"hot desk user {member.extension} can be a member of shared line "
                f"{line.number} only on platform 6.0 or later (tenant.yaml says "
                f"{settings.platform_version}); upgrade the platform or remove the member",
                where,
            )
        if not settings.licences.shared_licensing:
            yield Problem(
                rulebook.HOT_DESK_MEMBER_LICENSING.id,
                f"hot desk user {member.extension} can be a member of shared line "
                f"{line.number} only with iPECS Shared licensing; set "
                "licences.shared_licensing: true in tenant.yaml once it is bought, "
                "or remove the member",
                where,
            )


def ring_delay_needs_platform_4(config: TenantConfig) -> Iterator[Problem]:
    settings = config.settings
    if settings.platform_at_least("4.0"):
        return
    for line, index, member in _members(config):
        if member.ring_delay:
            yield Problem(
                rulebook.RING_DELAY_PLATFORM.id,
                f"ring_delay needs platform 4.0 or later (tenant.yaml says "
                f"{settings.platform_version}); use 0 until the tenant is upgraded",
                line.at("members", index, "ring_delay"),
            )


CHECKS = (unknown_members, cross_site_members, duplicate_members, hot_desk_members,
          ring_delay_needs_platform_4)
