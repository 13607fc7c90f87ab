"""The `reconcile` command: validate, plan and apply sites/ against a tenant.

Exit codes are a contract with CI jobs: 0 success; 1 any error, including usage
errors (click's default 2 is remapped, so a CI gate never reads a typo as
"changes present"); 2 only from `plan --detailed-exitcode` when there are changes.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler import __version__
from reconciler.applying import apply_plan, refuse_unless_forced
from reconciler.bulk import bulk_phase
from reconciler.config_loading import load_config
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.plans import Change, Plan, build_plan
from reconciler.plans.serializing import checksum
from reconciler.providers import DEFAULT_TENANT_URL, Provider, SqliteTenant, open_provider
from reconciler.rendering import json_document, markdown, runbook, text
from reconciler.rendering.values import title
from reconciler.saved_plans import ensure_unchanged, read_plan_file, write_plan_file
from schema.declarations import TenantConfig
from schema.settings import declared_facts

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


class ReconcileGroup(click.Group):
    """A click group whose every failure is one clear message and exit code 1."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:  # a refused prompt, or Ctrl-C outside apply's steps
            click.echo("Aborted; nothing was changed.", err=True)
            code = EXIT_ERROR
        except click.ClickException as error:
            error.show()
            code = EXIT_ERROR
        except ConfigError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: {error}", err=True)
            code = EXIT_ERROR
        except ReconcilerError as error:
            click.echo(f"error: {error}", err=True)
            code = EXIT_ERROR
        except Exception as error:  # a bug of ours: still no traceback unless asked for
            if os.environ.get("RECONCILER_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"internal error: {type(error).__name__}: {error}. This is a bug in "
                "ipecs-reconciler; set RECONCILER_DEBUG=1 to see the traceback and report it.",
                err=True,
            )
            code = EXIT_ERROR
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def config_dir_argument(command: F) -> F:
    return click.argument(
        "config_dir", required=False, default="sites", type=click.Path(path_type=Path)
    )(command)


def tenant_option(command: F) -> F:
    return click.option(
        "--tenant", "tenant_url", envvar="RECONCILER_TENANT", default=DEFAULT_TENANT_URL,
        show_default=True, metavar="URL",
        help="The tenant to plan against (env RECONCILER_TENANT).",
    )(command)


def site_filter_options(command: F) -> F:
    command = click.option(
        "--exclude-site", "exclude_sites", multiple=True, metavar="NAME",
        help="Leave this site out (repeatable).")(command)
    return click.option(
        "--site", "sites", multiple=True, metavar="NAME",
        help="Only this site (repeatable); rules still see the whole tenant.")(command)


@click.group(cls=ReconcileGroup)
@click.version_option(__version__, prog_name="ipecs-reconciler")
def cli() -> None:
    """Configuration as code for iPECS Cloud users, hot desk users and shared lines."""


@cli.command()
@config_dir_argument
@site_filter_options
def validate(config_dir: Path, sites: tuple[str, ...], exclude_sites: tuple[str, ...]) -> int:
    """Check CONFIG_DIR (default ./sites) against every rule; no tenant needed."""
    try:
        with bulk_phase():
            config = load_config(config_dir)
    except ConfigError as error:
        kept = [p for p in error.problems
                if _problem_in_sites(p.location.path, config_dir, sites, exclude_sites)]
        if kept:
            raise ConfigError(kept) from error
        click.echo(f"{config_dir}: valid for the chosen sites (others have problems).")
        return EXIT_OK
    _check_site_names(sites + exclude_sites, set(config.sites()))
    click.echo(f"{config_dir}: valid ({len(config.declared)} resources in "
               f"{len(config.sites())} site(s)).")
    return EXIT_OK


def _problem_in_sites(path: str, config_dir: Path, sites: tuple[str, ...],
                      exclude_sites: tuple[str, ...]) -> bool:
    """A problem counts for a site filter if it is in a chosen site's folder or outside
    every site folder (tenant.yaml concerns everyone)."""
    parts = Path(os.path.relpath(Path(path).resolve(), config_dir.resolve())).parts
    if len(parts) < 2:
        return True
    site = parts[0]
    return (not sites or site in sites) and site not in exclude_sites


def _check_site_names(names: tuple[str, ...], known: set[str]) -> None:
    unknown = sorted(set(names) - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ReconcilerError(f"no site named {', '.join(unknown)}; sites are: {listed}")


@dataclass(frozen=True, slots=True)
class _Planned:
    config: TenantConfig
    provider: Provider
    plan: Plan
    checksum: str  # worked out once: it serialises every change


def _plan(config_dir: Path, provider: Provider, sites: tuple[str, ...],
          exclude_sites: tuple[str, ...]) -> _Planned:
    with bulk_phase():
        config = load_config(config_dir)
        state = provider.read_state()
        _check_site_names(sites + exclude_sites,
                          set(config.sites()) | {key.site for key in state.resources})
        plan = build_plan(config, state, sites, exclude_sites)
        return _Planned(config, provider, plan, checksum(plan))


def _describe(provider: Provider) -> str:
    if provider.exists():
        return provider.description
    return f"{provider.description} (does not exist yet; apply creates it)"


FORMATS = ("text", "markdown", "json", "runbook")


def _render(planned: _Planned, output_format: str) -> str:
    plan, digest, plan_checksum = planned.plan, planned.config.digest, planned.checksum
    if output_format == "json":
        return json_document.render(plan, digest, plan_checksum)
    if output_format == "markdown":
        return markdown.render(plan, _describe(planned.provider), plan_checksum)
    if output_format == "runbook":
        return runbook.render(plan, plan_checksum)
    colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rendered = text.render(plan, _describe(planned.provider), colour=colour)
    return rendered + f"\nPlan checksum: {plan_checksum}\n"


@cli.command()
@config_dir_argument
@tenant_option
@site_filter_options
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also save the plan as JSON, for `apply --plan`.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True, help="How to print the plan.")
def plan(config_dir: Path, tenant_url: str, sites: tuple[str, ...],
         exclude_sites: tuple[str, ...], detailed_exitcode: bool, out_file: Path | None,
         output_format: str) -> int:
    """Show the changes that would make the tenant match CONFIG_DIR; writes nothing."""
    provider = open_provider(tenant_url)
    try:
        planned = _plan(config_dir, provider, sites, exclude_sites)
        if out_file is not None:
            write_plan_file(out_file, planned.plan, planned.config.digest, planned.checksum)
        click.echo(_render(planned, output_format), nl=False)
    finally:
        provider.close()
    if detailed_exitcode and not planned.plan.is_empty:
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
@config_dir_argument
@tenant_option
@site_filter_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--force", is_flag=True,
              help="Apply even if the plan deletes more than the safety limits allow.")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Apply only if a fresh plan is the one saved in this file.")
@click.option("--checksum", "expected_checksum", metavar="SHA",
              help="Apply only if a fresh plan has this checksum (printed by `plan`).")
def apply(config_dir: Path, tenant_url: str, sites: tuple[str, ...],
          exclude_sites: tuple[str, ...], auto_approve: bool, force: bool,
          plan_file: Path | None, expected_checksum: str | None) -> int:
    """Plan against the tenant, confirm, and apply the changes in order."""
    saved = read_plan_file(plan_file) if plan_file is not None else None
    if saved is not None:
        sites, exclude_sites = _filters_of(saved, sites, exclude_sites)
    provider = open_provider(tenant_url)
    try:
        with provider.lock():
            planned = _plan(config_dir, provider, sites, exclude_sites)
            fresh = (planned.plan, planned.checksum, planned.config.digest)
            if saved is not None:
                ensure_unchanged(saved["checksum"], *fresh, saved)
            if expected_checksum is not None:
                ensure_unchanged(expected_checksum, *fresh)
            click.echo(_render(planned, "text"), nl=False)
            if planned.plan.is_empty:
                return EXIT_OK
            refuse_unless_forced(planned.plan, force)
            if not auto_approve:
                _confirm(planned.plan)
            report = apply_plan(planned.plan, provider, declared_facts(planned.config.settings),
                                _progress, force=force)
            click.echo(f"Apply complete: {len(report.applied)} change(s) applied.")
    finally:
        provider.close()
    return EXIT_OK


@cli.group("local-tenant")
def local_tenant() -> None:
    """Manage the embedded local tenant (a SQLite file standing for the portal)."""


@local_tenant.command("set-facts")
@config_dir_argument
@tenant_option
def set_facts(config_dir: Path, tenant_url: str) -> int:
    """Record tenant.yaml's platform version, licences and packages in the local tenant,
    as if they had been bought in the portal."""
    with bulk_phase():
        config = load_config(config_dir)
    provider = open_provider(tenant_url)
    if not isinstance(provider, SqliteTenant):
        raise ReconcilerError("set-facts works on the embedded local tenant only; facts of a "
                              "real tenant change when the provider sells you licences")
    try:
        with provider.lock():
            provider.set_facts(declared_facts(config.settings))
    finally:
        provider.close()
    click.echo(f"{provider.description}: facts now match {config_dir}/tenant.yaml.")
    return EXIT_OK


def _filters_of(saved: dict[str, Any], sites: tuple[str, ...], exclude_sites: tuple[str, ...]
                ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A saved plan carries its site filters; others given with it would contradict it."""
    recorded = (tuple(saved["sites"]), tuple(saved["excluded_sites"]))
    if (sites or exclude_sites) and (tuple(sorted(set(sites))),
                                     tuple(sorted(set(exclude_sites)))) != recorded:
        raise click.UsageError("--site/--exclude-site differ from the saved plan's; leave "
                               "them out, the plan file carries its own")
    return recorded


def _confirm(plan: Plan) -> None:
    answer = click.prompt(
        f"Apply these {len(plan.changes)} changes? Only 'yes' will be accepted",
        default="", show_default=False,
    )
    if answer != "yes":
        raise click.exceptions.Abort()


def _progress(index: int, total: int, change: Change) -> None:
    click.echo(f"[{index}/{total}] {title(change)} ({change.key.site}): done")


def main() -> None:
    cli()
