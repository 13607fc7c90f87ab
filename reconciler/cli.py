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
from reconciler.applying import apply_plan
from reconciler.bulk import bulk_phase
from reconciler.config_loading import load_config
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.plans import Change, Plan, build_plan
from reconciler.providers import DEFAULT_TENANT_URL, Provider, open_provider
from reconciler.rendering import text
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
        except click.exceptions.Abort:
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


@click.group(cls=ReconcileGroup)
@click.version_option(__version__, prog_name="ipecs-reconciler")
def cli() -> None:
    """Configuration as code for iPECS Cloud users, hot desk users and shared lines."""


@cli.command()
@config_dir_argument
def validate(config_dir: Path) -> int:
    """Check CONFIG_DIR (default ./sites) against every rule; no tenant needed."""
    with bulk_phase():
        config = load_config(config_dir)
    click.echo(f"{config_dir}: valid ({len(config.declared)} resources in "
               f"{len(config.sites())} site(s)).")
    return EXIT_OK


@dataclass(slots=True)
class _Planned:
    config: TenantConfig
    provider: Provider
    plan: Plan


def _plan(config_dir: Path, tenant_url: str) -> _Planned:
    with bulk_phase():
        config = load_config(config_dir)
        provider = open_provider(tenant_url)
        state = provider.read_state()
        return _Planned(config, provider, build_plan(config, state))


def _describe(provider: Provider) -> str:
    if provider.exists():
        return provider.description
    return f"{provider.description} (does not exist yet; apply creates it)"


@cli.command()
@config_dir_argument
@tenant_option
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
def plan(config_dir: Path, tenant_url: str, detailed_exitcode: bool) -> int:
    """Show the changes that would make the tenant match CONFIG_DIR; writes nothing."""
    planned = _plan(config_dir, tenant_url)
    try:
        click.echo(text.render(planned.plan, _describe(planned.provider)), nl=False)
    finally:
        planned.provider.close()
    if detailed_exitcode and not planned.plan.is_empty:
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
@config_dir_argument
@tenant_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
def apply(config_dir: Path, tenant_url: str, auto_approve: bool) -> int:
    """Plan against the tenant, confirm, and apply the changes in order."""
    with bulk_phase():
        config = load_config(config_dir)
    provider = open_provider(tenant_url)
    try:
        with provider.lock():
            with bulk_phase():
                plan = build_plan(config, provider.read_state())
            click.echo(text.render(plan, _describe(provider)), nl=False)
            if plan.is_empty:
                return EXIT_OK
            if not auto_approve:
                _confirm(plan)
            report = apply_plan(plan, provider, declared_facts(config.settings), _progress)
            click.echo(f"Apply complete: {len(report.applied)} change(s) applied.")
    finally:
        provider.close()
    return EXIT_OK


def _confirm(plan: Plan) -> None:
    answer = click.prompt(
        f"Apply these {len(plan.changes)} changes? Only 'yes' will be accepted",
        default="", show_default=False,
    )
    if answer != "yes":
        raise click.exceptions.Abort()


def _progress(index: int, total: int, change: Change) -> None:
    click.echo(f"[{index}/{total}] {change.action.value} {change.key.site} {change.key}: done")


def main() -> None:
    cli()
