"""`reconcile import`: bring an existing tenant into git as a sites/ tree.

    read the tenant (one snapshot) -> write the tree beside the target, in a hidden
    staging folder -> move each file into place -> validate and plan the result
    against the same tenant: the plan may only adopt (resources made by hand) ->
    with --adopt, apply those adoptions under the tenant's lock

The round trip is the proof: a tree that does not validate, or plans anything but
adoptions, is reported, never passed off as an import.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler.loading.config_loading import load_tenant_settings
from reconciler.loading.config_tree import TENANT_FILE, is_yaml
from reconciler.loading.secrets import allowed_prefix
from reconciler.plans import EVERY_SITE, Plan, SiteFilter
from reconciler.plans.changes import Action
from reconciler.providers import Provider
from reconciler.providers.base import ReadOnlyView
from reconciler.providers.list_download import ListDownloadTenant
from reconciler.runs import ApplyRequest, Planned, apply_run, check_site_names, plan_run
from reconciler.runtime.errors import ReconcilerError
from reconciler.writing import config_writing
from schema.state import TenantState


@dataclass(frozen=True, slots=True)
class ImportRequest:
    out: Path
    chosen: SiteFilter = EVERY_SITE
    force: bool = False
    adopt: bool = False
    secret_prefix: str | None = None
    lock_timeout: float = 0.0


@dataclass(frozen=True, slots=True)
class Imported:
    files: tuple[str, ...]
    resources: int
    sites: tuple[str, ...]
    #: resources made by hand that the tree declares: the next apply adopts them
    to_adopt: int
    #: adopted by this import (--adopt)
    adopted: int


def import_run(provider: Provider, request: ImportRequest,
               show: Callable[[Planned], None] | None = None) -> Imported:
    state = readable_state(provider, request)
    chosen = request.chosen
    try:
        tree = config_writing.write_tree(
            state, state.identity.name if state.identity else "", chosen,
            allowed_prefix(request.secret_prefix),
            provider.settings if isinstance(provider, ListDownloadTenant) else None)
    except ValueError as error:
        raise ReconcilerError(f"cannot import {provider.description}: {error}") from error
    _write_in_place(request.out, tree.files, chosen, request.force)
    planned = plan_run(request.out, provider, chosen, request.secret_prefix, state=state)
    ensure_only_adoptions(planned.plan, "the imported tree")
    adopted = adopt_if_asked(provider, request, planned, show)
    return Imported(tuple(sorted(tree.files)), len(tree.resources), tree.sites,
                    len(planned.plan.changes), adopted)


def adopt_if_asked(provider: Provider, request: ImportRequest, planned: Planned,
                   show: Callable[[Planned], None] | None = None) -> int:
    """With --adopt, apply the plan of a tree that only adopts; how many were adopted."""
    if not request.adopt or planned.plan.is_empty:
        return 0
    _, report = apply_run(request.out, provider,
                          ApplyRequest(request.chosen, expected_checksum=planned.checksum,
                                       lock_timeout=request.lock_timeout,
                                       secret_prefix=request.secret_prefix),
                          show=show or (lambda planned: None), confirm=lambda plan: None)
    return len(report.applied)


def readable_state(provider: Provider, request: ImportRequest) -> TenantState:
    """The tenant as one snapshot, refused where a tree could not be written from it."""
    if not provider.exists():
        raise ReconcilerError(f"{provider.description} holds no tenant to import")
    if isinstance(provider, ReadOnlyView) and (request.out / TENANT_FILE).is_file():
        provider.configure(load_tenant_settings(request.out))  # how to read the file
    state = provider.read_state()
    if state.unfinished is not None or state.parked:
        raise ReconcilerError(
            f"an apply stopped half way in {provider.description} "
            f"({state.unfinished.describe() if state.unfinished else 'a swap is parked'}); "
            "finish it with `reconcile apply` first, or the tree would hold its temporary "
            "numbers")
    if state.identity is None and isinstance(provider, ReadOnlyView):
        raise ReconcilerError(f"{provider.description} does not say whose tenant it is; name "
                              "it in the URL: list-download:///FILE.xlsx?tenant=NAME")
    if state.identity is None:
        raise ReconcilerError(f"{provider.description} does not record whose tenant it is; "
                              "run `reconcile tenant migrate` with a config naming it first")
    check_site_names(request.chosen, {key.site for key in state.resources})
    return state


def ensure_only_adoptions(plan: Plan, what: str, written: str = "") -> None:
    """The tree declares what the tenant holds: planning it may only adopt."""
    other = [change for change in plan.changes
             if change.action is not Action.UPDATE or not change.adopt or change.diffs]
    if other:
        listed = ", ".join(f"{change.label} {change.key}" for change in other[:5])
        raise ReconcilerError(
            f"{what} does not plan empty against the tenant ({listed}); {written}this is "
            "a bug in import: please report it with the tenant's `reconcile tenant show`")


def _write_in_place(out: Path, files: dict[str, str], chosen: Callable[[str], bool],
                    force: bool) -> None:
    """Write every file beside its place first, then move each in: a failure part way
    through writing leaves the target as it was. With `force`, the YAML files the
    config tree would read from tenant.yaml and the chosen sites' folders are
    replaced; anything else in the folder is left alone."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReconcilerError(f"{out} exists and is not a folder; choose a folder for the tree")
    if out.exists() and not force and any(out.iterdir()):
        raise ReconcilerError(f"{out} is not empty; import writes a whole tree: name an empty "
                              "or new folder, or add --force to replace the tenant.yaml and "
                              "the site files there")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".reconciler-import-", dir=out))
    try:
        for relative, text in files.items():
            target = staging / relative
            target.parent.mkdir(exist_ok=True)
            with open(target, "x", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
        if force:
            _remove_replaced(out, chosen)
        for relative in files:
            (out / relative).parent.mkdir(exist_ok=True)
            os.replace(staging / relative, out / relative)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_replaced(out: Path, chosen: Callable[[str], bool]) -> None:
    (out / TENANT_FILE).unlink(missing_ok=True)
    for folder in out.iterdir():
        if not folder.is_dir() or folder.is_symlink() or folder.name.startswith(".") \
                or not chosen(folder.name):
            continue
        for entry in folder.iterdir():
            if entry.is_file() and not entry.is_symlink() and is_yaml(entry.name) \
                    and not entry.name.startswith("."):
                entry.unlink()
