"""`reconcile apply`: plan against the tenant, confirm, and apply step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.applying import ApplyReport
from reconciler.commands import many_customers
from reconciler.commands.options import (
    changed_since_option,
    config_dirs_argument,
    lock_timeout_option,
    secret_prefix_option,
    site_filter_options,
    tenant_option,
    tenant_url,
)
from reconciler.commands.reporting import EXIT_OK, PLANNED, render
from reconciler.output.saved_plans import read_plan_file
from reconciler.plans import Change, Plan
from reconciler.plans.site_filtering import SiteFilter
from reconciler.providers import open_provider
from reconciler.rendering.values import title
from reconciler.runs import ApplyRequest, apply_run
from schema.printable import printable


@click.command()
@config_dirs_argument
@changed_since_option
@tenant_option
@site_filter_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True,
              help="Apply even if the plan deletes more than the safety limits allow.")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Apply only if a fresh plan is the one saved in this file.")
@click.option("--checksum", "expected_checksum", metavar="SHA",
              help="Apply only if a fresh plan has this checksum (printed by `plan`).")
@lock_timeout_option
@secret_prefix_option
def apply(config_dirs: tuple[Path, ...], changed_since: str | None, tenant: str | None,
          sites: tuple[str, ...],
          exclude_sites: tuple[str, ...], auto_approve: bool, force: bool,
          plan_file: Path | None, expected_checksum: str | None, lock_timeout: float,
          secret_prefix: str | None) -> int:
    """Plan against the tenant, confirm, and apply the changes in order. Several
    CONFIG_DIRs (customers/*) are applied one customer at a time, each to its own
    tenant under its own lock, with {dir} in --tenant and --plan.

    \b
    Example:
      reconcile apply --plan plan.json --auto-approve --lock-timeout 10m
      reconcile apply customers/* --plan 'plans/{dir}.json' --auto-approve
    """
    kept = many_customers.only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        if expected_checksum is not None:
            raise click.UsageError("--checksum names one plan; with several config "
                                   "directories, give --plan 'plans/{dir}.json'")
        return many_customers.each_customer(apply, config_dirs, detailed=False)
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    tenant = many_customers.for_one(config_dir, tenant_url(tenant))
    secret_prefix = many_customers.prefix_for_one(config_dir, secret_prefix)
    if plan_file is not None:
        plan_file = Path(str(many_customers.for_one(config_dir, str(plan_file))))
    saved = read_plan_file(plan_file) if plan_file is not None else None
    chosen = SiteFilter(sites, exclude_sites)
    if saved is not None:
        chosen = _filter_of(saved, chosen)
    request = ApplyRequest(chosen, force, saved, expected_checksum, lock_timeout,
                           secret_prefix)
    provider = open_provider(tenant_url(tenant))
    try:
        planned, _ = apply_run(
            config_dir, provider, request,
            show=lambda planned: click.echo(render(planned, provider, "text"), nl=False),
            confirm=lambda plan: None if auto_approve else _confirm(plan),
            progress=_progress, finished=_finished)
        click.get_current_context().meta[PLANNED] = planned
    finally:
        provider.close()
    return EXIT_OK


def _filter_of(saved: dict[str, Any], given: SiteFilter) -> SiteFilter:
    """A saved plan carries its site filter; another given with it would contradict it."""
    recorded = SiteFilter(saved["sites"], saved["excluded_sites"])
    if given.limits and given != recorded:
        raise click.UsageError("--site/--exclude-site differ from the saved plan's; leave "
                               "them out, the plan file carries its own")
    return recorded


def _confirm(plan: Plan) -> None:
    answer = click.prompt(
        f"Apply these {len(plan.changes)} changes"
        f"{' and record what was bought' if plan.purchase is not None else ''}? Only 'yes' "
        "will be accepted",
        default="", show_default=False,
    )
    if answer != "yes":
        raise click.exceptions.Abort()


def _progress(index: int, total: int, change: Change) -> None:
    click.echo(f"[{index}/{total}] {title(change)} ({change.key.site}): done")


def _finished(report: ApplyReport) -> None:
    recorded = (f" Recorded as bought: {', '.join(printable(name) for name in report.recorded)}."
                if report.recorded else "")
    if report.setup is not None and not report.applied:
        click.echo(f"Apply complete: no change to apply; {report.setup}.{recorded}")
        return
    click.echo(f"Apply complete: {len(report.applied)} change(s) applied.{recorded}")
