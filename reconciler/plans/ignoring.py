"""Ignored means never touched: a plan that would edit an ignored resource is refused.

The only way a plan reaches an ignored resource is through a shared line the site
ignores that holds a member being deleted (the member must leave the line first,
and that is an edit of the line). Values an ignored resource holds are guarded by
the ownership rule before planning.
"""

from __future__ import annotations

from reconciler.plans.changes import Change
from schema import rulebook
from schema.declarations import TenantConfig
from schema.problems import Problem


def edits_of_ignored(changes: list[Change], config: TenantConfig) -> list[Problem]:
    return [_refusal(change, config) for change in changes
            if config.is_ignored(change.key.site, change.key.number)]


def _refusal(change: Change, config: TenantConfig) -> Problem:
    key = change.key
    leaving = ", ".join(str(item.path[1]) for item in change.diffs if item.path[0] == "members")
    site = config.site_settings.get(key.site)
    where = site.source.locate(("ignore",)) if site else config.settings_source.locate()
    return Problem(
        rulebook.IGNORED_EDIT.id,
        f"{key} in site {key.site} is ignored (site.ignore), but user {leaving or '?'}, a "
        f"member of it, is being deleted, and a member must leave the line first; this tool "
        f"never edits an ignored resource: remove {leaving} from {key} in the portal first, "
        f"take {key.number} out of site.ignore, or keep {leaving} in the config",
        where, key.site if site else None)
