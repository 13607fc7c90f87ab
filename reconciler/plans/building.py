"""Building the plan: the smallest ordered list of changes taking the tenant to the config.

    1. check: renumbers are worked out (by identity), tenant resources the config
       does not declare are sorted (delete, left alone, ignored), and every
       plan-time rule runs; any problem stops here
    2. compare: one Transition (before -> after), each resource compared once
    3. order: the changes of each phase (`phases.PHASES`), in the order the
       tenant accepts at every step; an edit of an ignored resource is refused
    4. filter to the chosen sites, keeping every step the kept ones need
"""

from __future__ import annotations

from reconciler.plans.changes import Plan
from reconciler.plans.ignoring import edits_of_ignored
from reconciler.plans.phases import in_phases
from reconciler.plans.safety import reasons_to_force
from reconciler.plans.site_filtering import EVERY_SITE, SiteFilter, kept_changes
from reconciler.plans.transition import Transition
from reconciler.runtime.errors import ConfigError
from schema.declarations import TenantConfig
from schema.ownership import sort_leftovers
from schema.purchases import purchase
from schema.renumbering import plan_renumbering
from schema.rules.live import check_against_live
from schema.settings import declared_facts
from schema.state import TenantState


def checked_transition(config: TenantConfig, live: TenantState) -> Transition:
    """The tenant as it is and as the config wants it, once the rules that need the
    tenant hold (raise ConfigError if not): what every phase reads."""
    renumbering = plan_renumbering(config, live)
    desired = {declared.key: declared for declared in config.declared}
    leftovers = sort_leftovers(config, live, set(desired) - renumbering.leavers,
                               set(renumbering.moves))
    problems = check_against_live(config, live, renumbering, leftovers)
    if problems:
        raise ConfigError(problems)
    return Transition(config, live, renumbering, leftovers, desired)


def build_plan(config: TenantConfig, live: TenantState,
               chosen: SiteFilter = EVERY_SITE) -> Plan:
    """Plan the changes; raise ConfigError if the config cannot apply to this tenant.

    With a site filter, only changes to the chosen sites are planned; rules are still
    checked on the whole tenant.
    """
    transition = checked_transition(config, live)
    leftovers = transition.leftovers
    every_change = in_phases(transition)
    problems = edits_of_ignored(every_change, config)
    if problems:
        raise ConfigError(problems)
    changes = kept_changes(every_change, chosen, live, config.settings.packages,
                           config.settings.licences.shared_lines)
    return Plan(
        config.settings.tenant, tuple(changes),
        unmanaged=tuple(k for k in leftovers.unmanaged if chosen(k.site)),
        ignored=tuple(k for k in leftovers.ignored if chosen(k.site)),
        needs_force=tuple(reasons_to_force(changes, config, live)),
        sites=tuple(sorted(chosen.sites)), excluded_sites=tuple(sorted(chosen.excluded)),
        unfinished=live.unfinished, compared=live.visibility,
        purchase=purchase(declared_facts(config.settings), live.facts),
    )
