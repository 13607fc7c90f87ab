"""The plan as JSON for CI gates and other tools: the saved-plan document itself,
documented in README.md ("Plan JSON"), stable within a `format_version`."""

from __future__ import annotations

import json

from reconciler.rendering.view import PlanView


def render(plan: PlanView) -> str:
    return json.dumps(plan.document, indent=2, ensure_ascii=False) + "\n"
