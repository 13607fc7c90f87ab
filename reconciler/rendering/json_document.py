"""The plan as JSON for CI gates and other tools: the saved-plan document, documented
in README.md ("Plan JSON"), stable within a `format_version`."""

from __future__ import annotations

import json

from reconciler.plans import Plan
from reconciler.plans.serializing import plan_document


def render(plan: Plan, config_digest: str, plan_checksum: str) -> str:
    document = plan_document(plan, config_digest, plan_checksum)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
