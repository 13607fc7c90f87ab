"""Saved plans: write one for review, and refuse to apply if the world moved since.

`reconcile plan --out plan.json` writes the plan document; `reconcile apply
--plan plan.json` (or `--checksum`) plans afresh and applies only if the fresh
plan's checksum is the reviewed one. Otherwise it says what moved: the config
(its digest changed), the tenant, and which changes differ.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.plans import Plan
from reconciler.plans.serializing import FORMAT_VERSION, change_titles, plan_document


def write_plan_file(path: Path, plan: Plan, config_digest: str, plan_checksum: str) -> None:
    """Write atomically: a reader never sees half a file."""
    document = plan_document(plan, config_digest, plan_checksum)
    text = json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    try:
        directory = path.parent if str(path.parent) else Path(".")
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp",
                                         encoding="utf-8") as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as error:
        raise ReconcilerError(f"cannot write plan file {path}: {error.strerror}") from error


def read_plan_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ReconcilerError(f"plan file {path} does not exist; make one with "
                              f"`reconcile plan --out {path}`") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReconcilerError(f"plan file {path} is not a readable plan ({error}); make it "
                              "again with `reconcile plan --out`") from error
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise ReconcilerError(
            f"plan file {path} has format_version {found!r}; this reconciler reads "
            f"{FORMAT_VERSION}; make the plan again with this version"
        )
    for field in ("checksum", "config_digest", "changes", "sites", "excluded_sites"):
        if field not in document:
            raise ReconcilerError(f"plan file {path} has no '{field}'; make it again")
    return document


def ensure_unchanged(expected: str, fresh: Plan, fresh_checksum: str, config_digest: str,
                     saved: dict[str, Any] | None = None) -> None:
    """Raise, naming what moved, unless the fresh plan (with checksum `fresh_checksum`)
    is the one reviewed."""
    if fresh_checksum == expected:
        return
    reasons = []
    if saved is not None and saved["config_digest"] != config_digest:
        reasons.append("the config changed since the plan was made "
                       f"(digest {saved['config_digest'][:19]}... now {config_digest[:19]}...)")
    elif saved is not None:
        reasons.append("the tenant changed since the plan was made (the config did not)")
    else:
        reasons.append("the config or the tenant changed since the plan was reviewed")
    if saved is not None:
        before = change_titles(saved)
        now = change_titles(plan_document(fresh, config_digest, fresh_checksum))
        gone = [line for line in before if line not in now]
        new = [line for line in now if line not in before]
        reasons += [f"no longer planned: {line}" for line in gone[:10]]
        reasons += [f"newly planned: {line}" for line in new[:10]]
        if not gone and not new:
            reasons.append("the same changes are planned in another order or with other "
                           "safety reasons")
    raise ReconcilerError(
        "the plan is stale, refusing to apply:\n  " + "\n  ".join(reasons)
        + "\n  make and review a new plan"
    )
