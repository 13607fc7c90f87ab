"""The plan as JSON for CI gates and other tools: the saved-plan document itself,
documented in docs/plans-and-guarantees.md ("Plan JSON"), stable within a `format_version`."""

from __future__ import annotations

from reconciler.plans.serializing import document_lines
from reconciler.rendering.view import PlanView


def render(plan: PlanView) -> str:
    return "".join(document_lines(dict(plan.document)))
