"""Plans: what to change in the tenant, in an order the tenant accepts at every step.

Pure of I/O: it reads a TenantConfig and a TenantState, and imports `runtime` and
`schema` only (the contract allows `providers` and `loading` below it too)."""

from reconciler.plans.building import build_plan
from reconciler.plans.changes import LABELS, Action, Change, Plan
from reconciler.plans.site_filtering import EVERY_SITE, SiteFilter

__all__ = ["EVERY_SITE", "LABELS", "Action", "Change", "Plan", "SiteFilter", "build_plan"]
