"""Plans: what to change in the tenant, in an order the tenant accepts at every step."""

from reconciler.plans.building import build_plan
from reconciler.plans.changes import LABELS, Action, Change, Plan
from reconciler.plans.site_filtering import EVERY_SITE, SiteFilter

__all__ = ["EVERY_SITE", "LABELS", "Action", "Change", "Plan", "SiteFilter", "build_plan"]
