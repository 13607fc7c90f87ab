"""Safety rails: how much a plan may destroy before apply wants --force.

Deletes and replaces are counted per site and kind against every resource of
that kind in the site, managed or not (pruned deletes count as deletes); over
the site's (or tenant's) limit, and only where there are at least
`min_resources`, apply refuses without --force (octoDNS's TooMuchChange).

Whatever the size, --force is needed when a plan deletes every managed resource
of a kind from a site (an emptied or truncated file, a deleted folder), and for
deleting a shared line or a hot desk user: both carry other people's calls.
"""

from __future__ import annotations

from collections import Counter

from reconciler.plans.changes import Action, Change
from schema.declarations import TenantConfig
from schema.kinds import describe
from schema.state import TenantState


def reasons_to_force(changes: list[Change], config: TenantConfig, live: TenantState
                     ) -> list[str]:
    deletes = [c for c in changes if c.action is Action.DELETE]
    if not deletes:
        return []  # every reason is about deleting: no need to count the tenant
    destroyed = Counter((c.key.site, c.key.kind) for c in deletes)
    existing = Counter((key.site, key.kind) for key in live.resources)
    managed = Counter((key.site, key.kind) for key in live.managed)
    plain = Counter((c.key.site, c.key.kind) for c in deletes
                    if c.replace_pair is None and c.key in live.managed)
    reasons = []
    for (site, kind), count in sorted(destroyed.items()):
        limits = config.safety(site)
        total = existing[(site, kind)]
        if plain[(site, kind)] and plain[(site, kind)] == managed[(site, kind)]:
            reasons.append(f"[{site}] every managed {describe(kind).singular} of the "
                           f"site would be deleted ({managed[(site, kind)]}); an emptied or "
                           "truncated file does this; use --force if that is meant")
            continue
        if total < limits.min_resources or total == 0:
            continue
        percent = 100.0 * count / total
        if percent > limits.max_delete_percent:
            reasons.append(
                f"[{site}] {count} of {total} {describe(kind).plural} ({percent:.1f}%) would be "
                f"deleted or replaced; over the {limits.max_delete_percent:.1f}% limit; use --force"
            )
    for change in changes:
        if change.action is Action.DELETE and describe(change.key.kind).delete_needs_force:
            reasons.append(f"[{change.key.site}] deleting {change.key} always needs --force")
    return reasons
