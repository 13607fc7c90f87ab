"""Saved plans: write one for review, and refuse to apply if the world moved since.

`reconcile plan --out plan.json` writes the plan document; `reconcile apply
--plan plan.json` (or `--checksum`) plans afresh and applies only if the fresh
plan's checksum is the reviewed one. Otherwise it says what moved: the config
(its digest changed), the tenant, and which changes differ.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.output.output_files import write_output
from reconciler.plans import Plan
from reconciler.plans.serializing import (
    FORMAT_VERSION,
    change_titles,
    document_checksum,
    document_lines,
    plan_document,
)
from reconciler.runtime.errors import ReconcilerError


def write_plan_file(path: Path, document: dict[str, Any]) -> None:
    """Write a plan document atomically: a reader never sees half a file, and a write
    that fails or is interrupted (it streams a large plan) leaves no temporary file
    (`output_files`: a device such as /dev/stdout is written through, never replaced)."""

    def write(handle: BinaryIO) -> None:
        for line in document_lines(document):
            handle.write(line.encode("utf-8"))

    write_output(path, write, "plan file", private=True)


#: A plan of the whole 100,000-number plan, every resource created, is about 60 MB.
MAX_PLAN_BYTES = 256 * 1024 * 1024


class _SavedChange(BaseModel):
    """A change as a saved plan lists it: checked before it is trusted for anything."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # built when a plan is read

    step: int
    action: Literal["create", "update", "renumber", "delete"]
    label: str
    site: str
    kind: str
    number: str
    fields: dict[str, Any]
    diffs: list[dict[str, Any]]


class _SavedPlan(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)  # built when a plan is read

    format_version: int
    tenant: str
    config_digest: str
    sites: list[str]
    excluded_sites: list[str]
    changes: list[_SavedChange]
    needs_force: list[str]
    checksum: str


def read_plan_file(path: Path) -> dict[str, Any]:
    """The saved plan at `path`, refused unless it is exactly as `plan --out` wrote it:
    well formed, and its checksum that of its own contents (not edited since)."""
    again = f"make it again with `reconcile plan --out {path}`"
    document = _parse(_read_bytes(path), path, again)
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        found = document.get("format_version") if isinstance(document, dict) else None
        raise ReconcilerError(
            f"plan file {path} has format_version {found!r}; this reconciler reads "
            f"{FORMAT_VERSION}; {again}"
        )
    try:
        _SavedPlan.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(step) for step in first["loc"])
        raise ReconcilerError(f"plan file {path} is malformed ({where}: {first['msg']}); "
                              f"{again}") from error
    if document_checksum(document) != document["checksum"]:
        raise ReconcilerError(
            f"plan file {path} was edited after it was made: its changes, filters or "
            f"safety reasons do not match its checksum; refusing it. Review and save a new "
            f"plan: {again}")
    return document


def _read_bytes(path: Path) -> bytes:
    """Read a plan file that is a regular file of sane size; a FIFO or a device is
    refused at once instead of hanging or reading forever."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as error:
        raise ReconcilerError(f"plan file {path} does not exist; make one with "
                              f"`reconcile plan --out {path}`") from error
    except OSError as error:
        raise ReconcilerError(f"cannot open plan file {path}: {error.strerror}") from error
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ReconcilerError(f"plan file {path} is not a regular file (a FIFO, device "
                                  "or socket); pass the file `plan --out` wrote")
        if info.st_size > MAX_PLAN_BYTES:
            raise ReconcilerError(f"plan file {path} is {info.st_size:,} bytes, over the "
                                  f"{MAX_PLAN_BYTES:,}-byte limit for a plan; it is not one")
        try:
            return handle.read(MAX_PLAN_BYTES + 1)
        except OSError as error:
            raise ReconcilerError(f"cannot read plan file {path}: {error.strerror}") from error


def _parse(content: bytes, path: Path, again: str) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise ReconcilerError(f"plan file {path} is not a readable plan ({reason}); "
                              f"{again}") from error


def normalised_checksum(value: str) -> str:
    """`--checksum` as printed (sha256:...) or as the bare hex digest."""
    value = value.strip()
    return value if value.startswith("sha256:") else f"sha256:{value.lower()}"


def ensure_unchanged(expected: str, fresh: Plan, fresh_checksum: str, config_digest: str,
                     saved: dict[str, Any] | None = None,
                     described: Callable[[dict[str, Any]], list[str]] = change_titles) -> None:
    """Raise, naming what moved, unless the fresh plan (with checksum `fresh_checksum`)
    is the one reviewed. `described`: each change of a plan document in words (the
    renderers' own, so a reviewer reads what moved as the plan said it)."""
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
        before = described(saved)
        now = described(plan_document(fresh, config_digest, fresh_checksum))
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
