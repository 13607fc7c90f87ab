"""The counts GitLab's merge-request widget reads from a `terraform` report
(`artifacts: reports: terraform: plan.gitlab.json`): creates, updates and deletes.

A replace deletes one resource and creates another, so it counts as both (as
Terraform counts it); an adoption and a renumber change a resource in place.
"""

from __future__ import annotations

import json

from reconciler.rendering.view import PlanView


def render(plan: PlanView) -> str:
    summary = plan.document["summary"]
    counts = {"create": summary["create"] + summary["replace"],
              "update": summary["update"] + summary["adopt"] + summary["renumber"],
              "delete": summary["delete"] + summary["replace"]}
    return json.dumps(counts) + "\n"
