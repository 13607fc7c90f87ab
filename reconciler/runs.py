"""The runs behind the commands: plan a config against a tenant, and apply it.

The CLI parses options, calls a run and maps errors to exit codes (octoDNS's
`cmds/sync.py`); tests and benchmarks call the same runs.

    plan_run:   load the config -> read the tenant (one snapshot) -> check it is
                this config's tenant -> build the plan -> checksum it
    apply_run:  lock the tenant -> plan_run -> the saved plan or checksum still
                holds -> safety rails -> confirm -> apply step by step
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

from reconciler.applying import (
    ApplyReport,
    Finished,
    Progress,
    apply_plan,
    refuse_unless_forced,
)
from reconciler.loading.config_loading import load_config
from reconciler.loading.speedups import DEFAULT, Speedups
from reconciler.output.saved_plans import ensure_unchanged, normalised_checksum
from reconciler.plans import EVERY_SITE, Plan, SiteFilter, build_plan
from reconciler.plans.serializing import checksum
from reconciler.providers import Provider
from reconciler.providers.base import ReadOnlyView, RecordsFacts
from reconciler.rendering.values import described_changes
from reconciler.runtime.bulk import bulk_phase
from reconciler.runtime.errors import ConfigError, ReconcilerError, TenantMismatch
from schema.declarations import TenantConfig
from schema.kinds import describe
from schema.settings import declared_facts
from schema.state import TenantState
from schema.visibility import owned_as_declared, projected


@dataclass(frozen=True, slots=True)
class Planned:
    config: TenantConfig
    plan: Plan
    checksum: str  # worked out once: it serialises every change


def plan_run(config_dir: Path, provider: Provider, chosen: SiteFilter = EVERY_SITE,
             secret_prefix: str | None = None,
             speedups: Speedups = DEFAULT, state: TenantState | None = None) -> Planned:
    """`speedups`: the events loader and the cache of validated site files from earlier
    runs (plans only: apply reads the files themselves, so what it writes never
    depends on anything but them). `state`: the tenant as this run read it already
    (import planning the tree it wrote from it), else it is read now. The config's
    problems, the cross-object rules' included, come before anything the provider
    says."""
    config = loaded(config_dir, provider, chosen, secret_prefix, speedups)
    return plan_config(config, config_dir, provider, chosen, state)


def loaded(config_dir: Path, provider: Provider, chosen: SiteFilter = EVERY_SITE,
           secret_prefix: str | None = None,
           speedups: Speedups = DEFAULT) -> TenantConfig:
    """The config, and the provider told which tenant it is for."""
    with bulk_phase():
        config, _ = load_for_sites(config_dir, secret_prefix, chosen, None, speedups)
    _bind(provider, config)
    return config


def _bind(provider: Provider, config: TenantConfig) -> None:
    """Tell the provider whose tenant this is (a database of many tenants picks it by
    the config's `tenant:`), and what a read-only view should read."""
    provider.bind(config.settings.tenant)
    if isinstance(provider, ReadOnlyView):
        provider.configure(config.settings)


def plan_config(config: TenantConfig, config_dir: Path, provider: Provider,
                chosen: SiteFilter = EVERY_SITE, state: TenantState | None = None
                ) -> Planned:
    """Read the tenant (one snapshot; `state`: the one this run read already), check
    it is this config's, and plan."""
    with bulk_phase():
        if state is None:
            state = provider.read_state()
        check_site_names(chosen, site_folders(config_dir) | {key.site for key in state.resources})
        # Whether the tenant exists is asked only of one that records no owner.
        ensure_same_tenant(config, state, provider.description,
                           state.identity is None and provider.exists())
        if state.visibility is not None:
            config = projected(config, state.visibility)
            owned_as_declared(config, state)
        plan = build_plan(config, state, chosen)
        return Planned(config, plan, checksum(plan))


def ensure_same_tenant(config: TenantConfig, state: TenantState, description: str,
                       exists: bool = True) -> None:
    """Refuse, before anything is planned, a config written for another tenant, and a
    tenant that does not say whose it is (made before tenants recorded it): it is not
    taken by whichever config comes first after an upgrade."""
    held, wanted = state.identity.name if state.identity else None, config.settings.tenant
    if held is None and exists and state.visibility is None:
        raise TenantMismatch(
            f"tenant {description} was made before tenants recorded whose they are, and "
            f"holds {holdings(state)}; nothing was planned, and it is not taken by the first "
            f"config that comes along. If it is {json.dumps(wanted)}'s, say so once: "
            f"reconcile tenant claim {json.dumps(wanted)} (with the same --tenant)")
    if held is None or held == wanted:
        return
    where = config.settings_source.locate(("tenant",))
    raise TenantMismatch(
        f"{where}: tenant file holds {json.dumps(held)}, config is for {json.dumps(wanted)} "
        f"({description}); nothing was planned. Point --tenant (or RECONCILER_TENANT) at the "
        f"tenant of {json.dumps(wanted)}. Only if this tenant really was renamed, record that "
        f"once with: reconcile tenant rename {json.dumps(held)} {json.dumps(wanted)}"
    )


def holdings(state: TenantState) -> str:
    """'4 users, 1 hot desk user and 3 shared lines in sites Branch, Main'."""
    kinds = Counter(key.kind for key in state.resources)
    if not kinds:
        return "no resources"
    parts = [f"{count} {describe(kind).singular if count == 1 else describe(kind).plural}"
             for kind, count in sorted(kinds.items())]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    sites = sorted({key.site for key in state.resources})
    return f"{listed} in site{'s' if len(sites) > 1 else ''} {', '.join(sites)}"


def load_for_sites(config_dir: Path, secret_prefix: str | None,
                   chosen: SiteFilter = EVERY_SITE,
                   tenant_sites: AbstractSet[str] | None = frozenset(),
                   speedups: Speedups = DEFAULT) -> tuple[TenantConfig, int]:
    """The config, and how many problems were set aside because they are in sites the
    filters leave out (validate and plan judge a filtered run alike). A site name that
    is neither a folder nor in the tenant is always an error (checked here, or, with
    `tenant_sites` None, by the caller once it has read the tenant)."""
    if tenant_sites is not None:
        check_site_names(chosen, site_folders(config_dir) | set(tenant_sites))
    try:
        return load_config(config_dir, secret_prefix, speedups), 0
    except ConfigError as error:
        if not chosen.limits:
            raise
        kept = [problem for problem in error.problems if chosen.keeps(problem)]
        if kept or error.config is None:
            raise ConfigError(kept or error.problems) from error
        return error.config, len(error.problems)


def site_folders(config_dir: Path) -> set[str]:
    try:
        return {entry.name for entry in config_dir.iterdir()
                if entry.is_dir() and not entry.name.startswith(".")}
    except OSError:
        return set()  # load_config says what is wrong with the directory


def check_site_names(chosen: SiteFilter, known: set[str]) -> None:
    """A site the filter names must be a folder, or in the tenant."""
    unknown = sorted(chosen.names - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ReconcilerError(f"no site named {', '.join(unknown)}; sites are: {listed}")


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """What the operator asked of an apply, beyond the config and the tenant."""

    chosen: SiteFilter = EVERY_SITE
    force: bool = False
    saved: dict[str, Any] | None = None  # a reviewed plan file's document
    expected_checksum: str | None = None
    lock_timeout: float = 0.0
    secret_prefix: str | None = None


def apply_run(config_dir: Path, provider: Provider, request: ApplyRequest, *,
              show: Callable[[Planned], None], confirm: Callable[[Plan], None],
              progress: Progress | None = None, finished: Finished | None = None,
              environ: Mapping[str, str] | None = None) -> tuple[Planned, ApplyReport]:
    """Plan under the tenant's lock, check the plan is the reviewed one, show it,
    confirm, apply. `show` and `confirm` are the CLI's (print, prompt)."""
    if isinstance(provider, ReadOnlyView):
        raise ReconcilerError(provider.write_refusal())
    config = loaded(config_dir, provider, request.chosen, request.secret_prefix)
    with provider.lock(request.lock_timeout):
        planned = plan_config(config, config_dir, provider, request.chosen)
        fresh = (planned.plan, planned.checksum, planned.config.digest)
        if request.saved is not None:
            ensure_unchanged(request.saved["checksum"], *fresh, request.saved,
                             described_changes)
        if request.expected_checksum is not None:
            ensure_unchanged(normalised_checksum(request.expected_checksum), *fresh)
        show(planned)
        plan = planned.plan
        if plan.is_empty:
            if plan.unfinished is not None:
                provider.finish_apply()  # killed after its last step: nothing left to do
            report = ApplyReport()
            if provider.pending_migration():  # none for a tenant that does not exist
                # Nothing to change, but an upgrade still brings the tenant up to date.
                report.setup = provider.initialise(declared_facts(planned.config.settings),
                                                   plan.tenant)
                if finished is not None:
                    finished(report)
            return planned, report
        refuse_unless_forced(plan, request.force)
        confirm(plan)
        report = apply_plan(plan, provider, declared_facts(planned.config.settings),
                            plan_checksum=planned.checksum,
                            progress=progress, finished=finished, environ=environ,
                            force=request.force, secret_prefix=planned.config.secret_prefix)
        return planned, report


def migrate_run(config_dir: Path, provider: Provider, lock_timeout: float = 0.0) -> str | None:
    """Bring an older tenant to this tool's schema, in one transaction; say what was done
    (None: nothing to do). Whose the tenant is stays as it records (`tenant claim`)."""
    config = loaded(config_dir, provider)
    if not provider.pending_migration():
        return None
    with provider.lock(lock_timeout):
        return provider.initialise(declared_facts(config.settings), config.settings.tenant)


def set_facts_run(config_dir: Path, provider: Provider, lock_timeout: float = 0.0) -> None:
    """Record tenant.yaml's platform, licences and packages in a stand-in tenant."""
    if not isinstance(provider, RecordsFacts):
        raise ReconcilerError("set-facts works on the embedded local tenant only; facts of a "
                              "real tenant change when the provider sells you licences")
    config = loaded(config_dir, provider)
    with provider.lock(lock_timeout):
        ensure_same_tenant(config, provider.read_state(), provider.description,
                           provider.exists())
        provider.set_facts(declared_facts(config.settings))


def fixture_run(config_dir: Path, provider: Provider, lock_timeout: float = 0.0) -> int:
    """Build a stand-in tenant holding what CONFIG_DIR describes, for plans made where
    the real tenant is out of reach (a forked pull request gets no secrets); the
    number of resources it holds. Its passwords are random placeholders: no
    variable is read, so none needs to be set."""
    if not isinstance(provider, RecordsFacts):
        raise ReconcilerError("a fixture can only be built in a tenant that records facts")
    if provider.exists():
        raise ReconcilerError(f"{provider.description} already holds a tenant; a fixture is "
                              "built from nothing, in a new file")
    config = loaded(config_dir, provider)
    with provider.lock(lock_timeout):
        planned = plan_config(config, config_dir, provider)
        # 12 characters: the portal takes 8 to 15
        placeholders = {change.password.env: token_urlsafe(9)
                        for change in planned.plan.changes if change.password is not None}
        report = apply_plan(planned.plan, provider, declared_facts(config.settings),
                            plan_checksum=planned.checksum, environ=placeholders,
                            secret_prefix=config.secret_prefix)
    return len(report.applied)


def copy_run(source: Provider, target: Provider, lock_timeout: float = 0.0) -> int:
    """Copy a tenant to where none is (another file, a PostgreSQL database), both locked,
    then check the copy reads back as the original; the number of resources copied."""
    with source.lock(lock_timeout):
        if not source.exists():
            raise ReconcilerError(f"{source.description} holds no tenant to copy")
        rows = source.dump()
        original = source.read_state()
        if original.identity is not None:
            target.bind(original.identity.name)
        with target.lock(lock_timeout):
            target.restore(rows)
            copied = target.read_state()
    differences = _differences(original, copied)
    if differences:
        raise ReconcilerError(f"the copy at {target.description} differs from the original in "
                              f"{', '.join(differences)}; do not use it")
    return len(copied.resources)


def _differences(original: TenantState, copied: TenantState) -> list[str]:
    parts = ("resources", "facts", "managed", "identity", "uids", "renumbered_from",
             "parked", "unfinished", "password_from")
    return [part for part in parts if getattr(original, part) != getattr(copied, part)]
