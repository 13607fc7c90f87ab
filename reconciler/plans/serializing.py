"""A plan as JSON data, and the checksum that says "this is the plan that was reviewed".

The checksum covers what apply would do: the tenant, the site filters, every
change in order with its values and diffs, and the reasons it needs --force.
It leaves out what does not change the outcome: where in the YAML a change was
written (reformatting a file does not invalidate a review) and the list of
unmanaged and ignored resources left alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from reconciler import __version__
from reconciler.plans.changes import Change, Plan
from schema.purchases import Purchase
from schema.visibility import compared

FORMAT_VERSION = 1


def change_data(change: Change, step: int) -> dict[str, Any]:
    return {
        "step": step,
        "action": change.action.value,
        "label": change.label,
        "site": change.key.site,
        "kind": change.key.kind.value,
        "number": change.key.number,
        "fields": change.fields,
        "diffs": [{"op": d.operation.value, "path": list(d.path), "old": d.old, "new": d.new}
                  for d in change.diffs],
        "password_from": change.password.describe() if change.password else None,
        "replaces": _key(change.replace_pair),
        "adopt": change.adopt,
        "reason": change.reason.value if change.reason else None,
        "reason_args": dict(change.reason_args),
        "note": change.note,
        "origin": str(change.origin) if change.origin else None,
    }


def _key(key: Any) -> dict[str, str] | None:
    if key is None:
        return None
    return {"site": key.site, "kind": key.kind.value, "number": key.number}


def purchase_data(purchase: Purchase | None) -> dict[str, Any] | None:
    """The facts a plan records before its first step, and each that changes."""
    if purchase is None:
        return None
    after = purchase.after
    return {"changes": [{"fact": c.name, "old": c.old, "new": c.new} for c in purchase.changes],
            "after": {"platform_version": after.platform_version,
                      "shared_line_licences": after.shared_line_licences,
                      "shared_licensing": after.shared_licensing,
                      "packages": dict(after.packages)}}


def reviewed_content(document: dict[str, Any]) -> dict[str, Any]:
    """What the checksum covers, taken from a plan document: everything apply would
    do, without where the YAML asked for it. A purchase counts where there is one (a
    plan without, saved by an earlier version, keeps its checksum)."""
    content = {"tenant": document["tenant"], "sites": list(document["sites"]),
               "excluded_sites": list(document["excluded_sites"]),
               "changes": [{k: v for k, v in change.items() if k != "origin"}
                           for change in document["changes"]],
               "needs_force": list(document["needs_force"])}
    if document.get("purchase") is not None:
        content["purchase"] = document["purchase"]
    return content


def checksum(plan: Plan) -> str:
    return document_checksum({
        "tenant": plan.tenant, "sites": plan.sites, "excluded_sites": plan.excluded_sites,
        "changes": [change_data(c, step) for step, c in enumerate(plan.changes, start=1)],
        "needs_force": plan.needs_force, "purchase": purchase_data(plan.purchase)})


def document_checksum(document: dict[str, Any]) -> str:
    """The checksum of a plan document's own contents: a saved plan whose `checksum`
    differs from this was edited after it was made."""
    text = json.dumps(reviewed_content(document), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def plan_document(plan: Plan, config_digest: str, plan_checksum: str) -> dict[str, Any]:
    """The whole saved plan (`reconcile plan --out`, `--format json`); no secret values.
    `plan_checksum` is checksum(plan): callers work it out once and pass it around."""
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "ipecs-reconciler", "version": __version__},
        "tenant": plan.tenant,
        "config_digest": config_digest,
        "sites": list(plan.sites),
        "excluded_sites": list(plan.excluded_sites),
        "summary": {label: counts[label] for label in
                    ("create", "update", "adopt", "renumber", "replace", "delete")},
        "purchase": purchase_data(plan.purchase),
        "changes": [change_data(c, step) for step, c in enumerate(plan.changes, start=1)],
        "unmanaged": [_key(key) for key in plan.unmanaged],
        "ignored": [_key(key) for key in plan.ignored],
        "needs_force": list(plan.needs_force),
        "compared": compared(plan.compared) if plan.compared is not None else None,
        "checksum": plan_checksum,
    }


def document_lines(document: dict[str, Any]) -> Iterator[str]:
    """The plan document as JSON text, one change a line: what `plan --out` writes and
    `--format json` prints. Each part goes through the C encoder (`indent` would force
    Python's, 5x slower on 100,000 changes), and the file is written as it is made."""
    yield "{\n"
    last = len(document) - 1
    for position, (key, value) in enumerate(document.items()):
        end = ",\n" if position < last else "\n"
        if key == "changes" and value:
            yield '  "changes": [\n'
            final = len(value) - 1
            for index, change in enumerate(value):
                yield "    " + json.dumps(change, ensure_ascii=False) + \
                    (",\n" if index < final else "\n")
            yield "  ]" + end
        else:
            yield f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{end}"
    yield "}\n"


def change_titles(document: dict[str, Any]) -> list[str]:
    """One comparable line per change of a plan document, for saying what moved."""
    bought = document.get("purchase") or {"changes": []}
    return [f"record {json.dumps(c, sort_keys=True)}" for c in bought["changes"]] + [
        f"{c['label']} {c['kind']} {c['number']} ({c['site']}) "
        + json.dumps({"fields": c["fields"], "diffs": c["diffs"]}, sort_keys=True)
        for c in document["changes"]
    ]
