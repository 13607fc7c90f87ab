"""Plans: what to change in the tenant, in an order the tenant accepts at every step."""

from reconciler.plans.building import build_plan
from reconciler.plans.changes import LABELS, Action, Change, Plan

__all__ = ["LABELS", "Action", "Change", "Plan", "build_plan"]
