"""Why a change is in the plan, as data: a reason code with its arguments.

After Terraform's `ResourceInstanceChangeActionReason`. The plan says *why* with
an enum; each output format spells it (`spell` here for the words every
format shares; the JSON plan carries the code, documented in docs/plans-and-guarantees.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import assert_never

from schema import rulebook


class ChangeReason(StrEnum):
    #: a managed resource the config no longer declares
    NOT_IN_CONFIG = "delete_because_not_in_config"
    #: a resource made by hand, in a site that prunes (`prune: true`)
    PRUNED = "delete_because_pruned"
    #: a List Download row never declared in git (made in the portal), in a site that
    #: prunes
    IN_PORTAL_NOT_IN_GIT = "delete_because_in_portal_not_in_git"
    #: the two halves of a replace: a type, or a site, cannot change in place
    TYPE_CANNOT_CHANGE = "replace_because_type_cannot_change"
    SITE_CANNOT_CHANGE = "replace_because_site_cannot_change"
    #: a unique value moves to another resource; args: field -> the resource taking it
    RELEASE = "release_for_another_resource"
    #: one half of a swap parks on a free number; args: heading_for
    TEMPORARY_NUMBER = "temporary_number_for_swap"
    #: members leave a shared line before their user is deleted; args: managed ("yes"/"no")
    MEMBERS_LEAVE = "members_leave_before_user_deleted"


def spell(reason: ChangeReason | None, args: Mapping[str, str]) -> str:
    """The reason in words, as text, markdown and runbook show it."""
    if reason is None:
        return ""
    match reason:
        case ChangeReason.NOT_IN_CONFIG:
            return "no longer in the config"
        case ChangeReason.PRUNED:
            return "not managed by this tool; pruned (site prune: true)"
        case ChangeReason.IN_PORTAL_NOT_IN_GIT:
            return "in the portal, not in git; deleted as its site prunes (prune: true)"
        case ChangeReason.TYPE_CANNOT_CHANGE | ChangeReason.SITE_CANNOT_CHANGE:
            what = "type" if reason is ChangeReason.TYPE_CANNOT_CHANGE else "site"
            words = (f"a {args['noun']}'s {what} cannot change in place "
                     f"[{rulebook.KIND_CHANGE.id}]; download its call recordings before applying")
            if "carried" in args:
                words += (f"; carries {args['carried']} from site {args['from_site']} (not in "
                          "the config: kept as the tenant holds them)")
            if "reenter" in args:
                words += ("; its password is not carried: enter one again in the portal (the "
                          "config sets none)")
            return words
        case ChangeReason.RELEASE:
            return "releases " + ", ".join(f"{name} for {to}" for name, to in sorted(args.items()))
        case ChangeReason.TEMPORARY_NUMBER:
            return f"temporary number, so that {args['heading_for']} can be freed"
        case ChangeReason.MEMBERS_LEAVE:
            unmanaged = "" if args.get("managed", "yes") == "yes" else " (this line is not managed)"
            return f"members leave before their user is deleted{unmanaged}"
        case _:
            assert_never(reason)
