"""How a command says how it ended: exit codes, an error in a user's words, warnings,
the cache's counts, and a plan printed in a format.

Exit codes are a contract with CI jobs: 0 success; 1 any error, including usage
errors (click's default 2 is remapped, so a CI gate never reads a typo as
"changes present") and any stop (Ctrl-C, SIGTERM, a closed stdout); 2 only
from `plan --detailed-exitcode` when there are changes.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler.loading.site_file_cache import SiteFileCache
from reconciler.plans import Plan
from reconciler.plans.serializing import plan_document
from reconciler.providers import Provider
from reconciler.rendering import RENDERERS, PlanView
from reconciler.runs import Planned
from reconciler.runtime.errors import ConfigError, ReconcilerError
from schema.declarations import TenantConfig
from schema.printable import printable

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
#: The plan formats every command prints (`plan`, `show`).
FORMATS = tuple(RENDERERS)
#: Where a command leaves what it planned, for `each_customer`'s summary.
PLANNED = "reconciler.planned"


def report(error: click.ClickException | ReconcilerError) -> None:
    """What the user sees of an error a command ends in (or one customer's, of several)."""
    if isinstance(error, click.ClickException):
        error.show()
    elif isinstance(error, ConfigError):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        note_rules_ran_on_part(error)
        click.echo(f"error: {error}", err=True)
    else:
        click.echo(f"error: {printable(str(error), keep_newlines=True)}", err=True)


#: Problems that keep a file or an item from loading: the rules across files (numbers,
#: seats, members) then see only the rest.
_LOADING_RULES = ("yaml.", "schema.", "field.", "config.limits")


def note_rules_ran_on_part(error: ConfigError) -> None:
    """Said when the rules across files did run, on part of the tree: some resources
    loaded, others were kept out by their files' problems."""
    if error.config is None or not error.config.declared:
        return
    held_back = sum(problem.rule.startswith(_LOADING_RULES) for problem in error.problems)
    if held_back:
        click.echo(f"note: {held_back} problem(s) kept a file or an item from loading; the "
                   "rules across files (numbers, seats, members) ran only on what loaded: fix "
                   "those and validate again for the rest", err=True)


def report_cache(cache: SiteFileCache | None, note: str, verbose: bool) -> None:
    """The cache's counts with --verbose; a warning (a key or folder that may not be
    used) always, as only the user can fix it."""
    if cache is not None:
        cache.close()
    if verbose or note.startswith("warning:"):
        click.echo(cache.counts.line() if cache is not None else note, err=True)


def warn(config: TenantConfig) -> None:
    for warning in config.warnings:
        click.echo(str(warning), err=True)


def render(planned: Planned, provider: Provider, output_format: str,
           document: dict[str, Any] | None = None) -> str:
    document = document or plan_document(planned.plan, planned.config.digest,
                                         planned.checksum)
    view = PlanView(document, _describe(provider, planned.plan), colour())
    return RENDERERS[output_format](view)


def _describe(provider: Provider, plan: Plan) -> str:
    described = provider.description
    if not provider.exists():
        described += " (does not exist yet; apply creates it)"
    if plan.unfinished is not None:
        described += f"\n! Unfinished: {plan.unfinished.describe()}; this plan finishes its work"
    return described


def colour() -> bool:
    """Whether to colour: as the root command decided (`cli`), else a terminal's."""
    context = click.get_current_context(silent=True)
    asked = context.find_root().color if context is not None else None
    return sys.stdout.isatty() if asked is None else asked
