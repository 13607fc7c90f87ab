"""The `reconcile` command: validate, plan and apply sites/ against a tenant.

Exit codes are a contract with CI jobs: 0 success; 1 any error, including usage
errors (click's default 2 is remapped, so a CI gate never reads a typo as
"changes present") and any stop (Ctrl-C, SIGTERM, a closed stdout); 2 only
from `plan --detailed-exitcode` when there are changes.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from reconciler import __version__, bulk, customers, standard_output, stopping
from reconciler.applying import ApplyReport
from reconciler.bulk import bulk_phase
from reconciler.cli_options import (
    UPLOAD_FORMAT,
    cache_options,
    changed_since_option,
    config_dirs_argument,
    lock_timeout_option,
    secret_prefix_option,
    site_filter_options,
    tenant_option,
    tenant_url,
)
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.job_summaries import append_summary, summary_path
from reconciler.plans import Change, Plan
from reconciler.plans.serializing import FORMAT_VERSION as PLAN_FORMAT
from reconciler.plans.serializing import plan_document
from reconciler.problem_formats import FORMATS as PROBLEM_FORMATS
from reconciler.problem_formats import Findings
from reconciler.providers import Provider, open_provider
from reconciler.providers.sqlite_storage import SCHEMA_VERSION as TENANT_SCHEMA
from reconciler.rendering import RENDERERS, PlanView
from reconciler.rendering.values import title
from reconciler.runs import (
    ApplyRequest,
    Planned,
    apply_run,
    load_for_sites,
    plan_run,
)
from reconciler.saved_plans import read_plan_file, write_plan_file
from reconciler.site_file_cache import SiteFileCache, open_cache
from schema.declarations import TenantConfig
from schema.printable import printable

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
ENV_PREFIX = "RECONCILER"
F = TypeVar("F", bound=Callable[..., Any])


class ReconcileGroup(click.Group):
    """A click group whose every failure is one clear message and exit code 1.

    The commands a plan never needs are imported when they are asked for (click's lazy
    group pattern): a small plan's start-up is mostly imports (BENCHMARKS.md)."""

    #: command name -> "module:attribute"
    LAZY_COMMANDS: ClassVar[dict[str, str]] = {
        "customers": "reconciler.customers_command:customers_group",
        "fmt": "reconciler.fmt_command:fmt_command",
        "import": "reconciler.import_command:import_command",
        "list-download": "reconciler.list_download_command:list_download_group",
        "local-tenant": "reconciler.local_tenant_commands:local_tenant_group",
        "schema": "reconciler.schema_command:schema_command",
        "tenant": "reconciler.tenant_commands:tenant_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY_COMMANDS and cmd_name not in self.commands:
            module_name, attribute = self.LAZY_COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            _environment_variables(command, _variable_of(ENV_PREFIX, cmd_name))
            self.add_command(command)
        return super().get_command(ctx, cmd_name)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        stopping.record_written(0, None)  # this run has written nothing yet
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort as abort:  # a refused prompt, or Ctrl-C before writing
            interrupted = isinstance(abort.__cause__, KeyboardInterrupt)
            click.echo(f"{'interrupted (Ctrl-C)' if interrupted else 'Aborted'}; "
                       f"{stopping.what_stands()}.", err=True)
            code = EXIT_ERROR
        except stopping.Terminated as stop:
            click.echo(f"{stop.why}; {stopping.what_stands()}.", err=True)
            code = EXIT_ERROR
        except (click.ClickException, ReconcilerError) as error:
            _report(error)
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
        code = _flushed(code if isinstance(code, int) else EXIT_OK)
        sys.exit(code)

    def invoke(self, ctx: click.Context) -> Any:
        # click would swallow a closed stdout and exit 1 in silence; say what happened.
        # (A closed stdout during an apply's writes is reported by the apply itself.)
        # (A full disk or a file-size limit on stdout is an OutputLost, reported alike.)
        try:
            return super().invoke(ctx)
        except BrokenPipeError as error:
            raise ReconcilerError(f"{standard_output.describe(error)} before the output was "
                                  "complete; nothing was changed.") from error


def _report(error: click.ClickException | ReconcilerError) -> None:
    """What the user sees of an error a command ends in (or one customer's, of several)."""
    if isinstance(error, click.ClickException):
        error.show()
    elif isinstance(error, ConfigError):
        for problem in error.problems:
            click.echo(str(problem), err=True)
        _note_rules_ran_on_part(error)
        click.echo(f"error: {error}", err=True)
    else:
        click.echo(f"error: {printable(str(error), keep_newlines=True)}", err=True)


#: Problems that keep a file or an item from loading: the rules across files (numbers,
#: seats, members) then see only the rest.
_LOADING_RULES = ("yaml.", "schema.", "field.", "config.limits")


def _note_rules_ran_on_part(error: ConfigError) -> None:
    """Said when the rules across files did run, on part of the tree: some resources
    loaded, others were kept out by their files' problems."""
    if error.config is None or not error.config.declared:
        return
    held_back = sum(problem.rule.startswith(_LOADING_RULES) for problem in error.problems)
    if held_back:
        click.echo(f"note: {held_back} problem(s) kept a file or an item from loading; the "
                   "rules across files (numbers, seats, members) ran only on what loaded: fix "
                   "those and validate again for the rest", err=True)


def _flushed(code: int) -> int:
    """Flush what the command left buffered: output that cannot be written is an error
    (exit 1, said once), never exit 0 with a cut plan. Afterwards stdout is quietened,
    so the interpreter's own final flush prints no second, confusing error."""
    try:
        sys.stdout.flush()
        return code
    except (BrokenPipeError, ValueError) as error:
        if isinstance(error, BrokenPipeError) and code != EXIT_ERROR:
            click.echo(f"error: {standard_output.describe(error)} before the output was "
                       "complete", err=True)
            code = EXIT_ERROR
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return code


@click.group(cls=ReconcileGroup)
@click.version_option(
    __version__, prog_name="ipecs-reconciler",
    message=f"%(prog)s %(version)s (tenant schema {TENANT_SCHEMA}, plan format "
            f"{PLAN_FORMAT})")
@click.option("--no-color", "--no-colour", "no_colour", is_flag=True,
              envvar="RECONCILER_NO_COLOR", show_envvar=True,
              help="Never colour the output (as NO_COLOR does; FORCE_COLOR or "
                   "CLICOLOR_FORCE colour it where it is not a terminal).")
@click.pass_context
def cli(context: click.Context, no_colour: bool) -> None:
    """Configuration as code for iPECS Cloud users, hot desk users and shared lines.

    Every option can also be set by an environment variable, named in each
    command's --help. Shell completion: see docs/commands.md ("Shell completion").

    \b
    Example:
      reconcile validate && reconcile plan --out plan.json
    """
    # click strips colour from output that is not a terminal unless told otherwise.
    context.color = _colour_asked(no_colour)



@cli.command()
@config_dirs_argument
@changed_since_option
@site_filter_options
@secret_prefix_option
@click.option("--format", "output_format", type=click.Choice(tuple(PROBLEM_FORMATS)),
              default="text", show_default=True, envvar="RECONCILER_VALIDATE_FORMAT",
              help="text: `path:line:col: message [rule]` lines; github: those plus "
                   "annotations on the diff lines; json; gitlab-codequality: a Code Quality "
                   "report; sarif: a SARIF 2.1.0 log (GitHub code scanning).")
@cache_options
def validate(config_dirs: tuple[Path, ...], changed_since: str | None,
             sites: tuple[str, ...], exclude_sites: tuple[str, ...],
             secret_prefix: str | None, output_format: str, no_cache: bool,
             verbose: bool) -> int:
    """Check CONFIG_DIR (default ./sites) against every rule; no tenant needed.
    Several CONFIG_DIRs (customers/*) are checked one customer at a time.

    \b
    Example:
      reconcile validate sites --format github
      reconcile validate customers/*
    """
    kept = _only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        _one_document_each(output_format, ("text", "github"))
        return _each_customer(validate, config_dirs, detailed=False)
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    secret_prefix = customers.prefix_for_one(config_dir, secret_prefix)
    cache, note = open_cache(config_dir, enabled=not no_cache)
    try:
        with bulk_phase():
            config, set_aside = load_for_sites(config_dir, secret_prefix, sites, exclude_sites,
                                               cache=cache)
    except ConfigError as error:
        _report_cache(cache, note, verbose)
        if output_format == "text":
            raise
        warnings = error.config.warnings if error.config is not None else []
        _findings(output_format, Findings(error.problems, warnings, "", 0, {}))
        _note_rules_ran_on_part(error)
        click.echo(f"error: {error}", err=True)
        return EXIT_ERROR
    _report_cache(cache, note, verbose)
    others = " (other sites have problems)" if set_aside else ""
    lines = [f"{config_dir}: valid{' for the chosen sites' if set_aside else ''} "
             f"({len(config.declared)} resources in {len(config.sites())} site(s)){others}."]
    per_site = Counter(d.site for d in config.declared)
    for site in config.sites():
        files = config.files_by_site.get(site, 0)
        lines.append(f"  {printable(site)}: {files} file(s), {per_site[site]} resource(s)")
    return _findings(output_format, Findings([], config.warnings, "\n".join(lines) + "\n",
                                             len(config.declared), dict(per_site)))


def _report_cache(cache: SiteFileCache | None, note: str, verbose: bool) -> None:
    """The cache's counts with --verbose; a warning (a key or folder that may not be
    used) always, as only the user can fix it."""
    if cache is not None:
        cache.close()
    if verbose or note.startswith("warning:"):
        click.echo(cache.counts.line() if cache is not None else note, err=True)


def _findings(output_format: str, findings: Findings) -> int:
    out, err = PROBLEM_FORMATS[output_format](findings)
    if err:
        click.echo(err, err=True, nl=False)
    if out:
        click.echo(out, nl=False)
    return EXIT_ERROR if findings.problems else EXIT_OK


def _warn(config: TenantConfig) -> None:
    for warning in config.warnings:
        click.echo(str(warning), err=True)


def _describe(provider: Provider, plan: Plan) -> str:
    described = provider.description
    if not provider.exists():
        described += " (does not exist yet; apply creates it)"
    if plan.unfinished is not None:
        described += f"\n! Unfinished: {plan.unfinished.describe()}; this plan finishes its work"
    return described


FORMATS = tuple(RENDERERS)


def _render(planned: Planned, provider: Provider, output_format: str,
            document: dict[str, Any] | None = None) -> str:
    document = document or plan_document(planned.plan, planned.config.digest,
                                         planned.checksum)
    view = PlanView(document, _describe(provider, planned.plan), _colour())
    return RENDERERS[output_format](view)


def _colour_asked(no_colour: bool) -> bool | None:
    """As the conventions say: --no-color and NO_COLOR (set, not empty: no-color.org)
    turn colour off; FORCE_COLOR (force-color.org) or CLICOLOR_FORCE, set and not "0",
    turn it on where stdout is not a terminal (a CI log that shows colour); None: on
    a terminal only. Off wins."""
    if no_colour or os.environ.get("NO_COLOR"):
        return False
    if any(os.environ.get(name, "0") not in ("", "0") for name in ("FORCE_COLOR",
                                                                  "CLICOLOR_FORCE")):
        return True
    return None


def _colour() -> bool:
    context = click.get_current_context(silent=True)
    asked = context.find_root().color if context is not None else None
    return sys.stdout.isatty() if asked is None else asked


@cli.command()
@config_dirs_argument
@changed_since_option
@tenant_option
@site_filter_options
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also save the plan as JSON, for `apply --plan` (with --format "
                   "list-upload: where to write the upload file).")
@click.option("--format", "output_format", type=click.Choice((*FORMATS, UPLOAD_FORMAT)),
              default="text", show_default=True,
              help="How to print the plan; list-upload writes the List Download upload "
                   "file to --out.")
@click.option("--summary-file", "summary_file", metavar="FILE",
              help="Also append the plan as markdown to this file, a CI job's summary page "
                   "(default: $GITHUB_STEP_SUMMARY when set; an empty value turns it off). "
                   "Cut to fit GitHub's 1 MiB limit.")
@secret_prefix_option
@cache_options
def plan(config_dirs: tuple[Path, ...], changed_since: str | None, tenant: str | None,
         sites: tuple[str, ...],
         exclude_sites: tuple[str, ...], detailed_exitcode: bool, out_file: Path | None,
         output_format: str, summary_file: str | None, secret_prefix: str | None,
         no_cache: bool, verbose: bool) -> int:
    """Show the changes that would make the tenant match CONFIG_DIR; writes nothing to it.
    Several CONFIG_DIRs (customers/*) are planned each against its own tenant, with
    {dir} in --tenant and --out (docs/commands.md, "Many customers").

    \b
    Example:
      reconcile plan --out plan.json --detailed-exitcode
      reconcile plan --tenant 'postgresql://ci@db/phones' --format markdown
      reconcile plan customers/* --tenant 'sqlite:///.reconciler/{dir}.db'
    """
    kept = _only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        _one_document_each(output_format, ("text", "markdown", "runbook"))
        return _each_customer(plan, config_dirs, detailed=detailed_exitcode,
                              markdown=output_format == "markdown")
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    tenant, secret_prefix = (customers.for_one(config_dir, tenant_url(tenant)),
                             customers.prefix_for_one(config_dir, secret_prefix))
    if out_file is not None:
        out_file = Path(str(customers.for_one(config_dir, str(out_file))))
    provider = open_provider(tenant_url(tenant))
    cache, note = open_cache(config_dir, enabled=not no_cache)
    try:
        try:
            planned = plan_run(config_dir, provider, sites, exclude_sites, secret_prefix,
                               cache=cache)
        finally:
            _report_cache(cache, note, verbose)
        _warn(planned.config)
        document = plan_document(planned.plan, planned.config.digest, planned.checksum)
        if output_format == UPLOAD_FORMAT:
            from reconciler.list_download_command import upload_file

            upload_file(planned, provider, out_file, secret_prefix)
        else:
            if out_file is not None:
                write_plan_file(out_file, document)
            click.echo(_render(planned, provider, output_format, document), nl=False)
        summary = summary_path(summary_file)
        if summary is not None:
            markdown = _render(planned, provider, "markdown", document)
            if append_summary(summary, markdown, len(planned.plan.changes)):
                click.echo(f"note: the plan was cut to fit the job summary {summary}",
                           err=True)
        click.get_current_context().meta[_PLANNED] = planned
    finally:
        provider.close()
    if detailed_exitcode and not planned.plan.is_empty:
        return EXIT_CHANGES
    return EXIT_OK


@cli.command()
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
    kept = _only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        if expected_checksum is not None:
            raise click.UsageError("--checksum names one plan; with several config "
                                   "directories, give --plan 'plans/{dir}.json'")
        return _each_customer(apply, config_dirs, detailed=False)
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    tenant, secret_prefix = (customers.for_one(config_dir, tenant_url(tenant)),
                             customers.prefix_for_one(config_dir, secret_prefix))
    if plan_file is not None:
        plan_file = Path(str(customers.for_one(config_dir, str(plan_file))))
    saved = read_plan_file(plan_file) if plan_file is not None else None
    if saved is not None:
        sites, exclude_sites = _filters_of(saved, sites, exclude_sites)
    request = ApplyRequest(sites, exclude_sites, force, saved, expected_checksum, lock_timeout,
                           secret_prefix)
    provider = open_provider(tenant_url(tenant))
    try:
        planned, _ = apply_run(
            config_dir, provider, request,
            show=lambda planned: click.echo(_render(planned, provider, "text"), nl=False),
            confirm=lambda plan: None if auto_approve else _confirm(plan),
            progress=_progress, finished=_finished)
        click.get_current_context().meta[_PLANNED] = planned
    finally:
        provider.close()
    return EXIT_OK


#: Where a command leaves what it planned, for `_each_customer`'s summary.
_PLANNED = "reconciler.planned"


def _only_changed(config_dirs: tuple[Path, ...], changed_since: str | None
                  ) -> tuple[Path, ...] | None:
    """The config directories changed since the ref; None (said) when none did."""
    if changed_since is None:
        return config_dirs
    from reconciler.changed_customers import changed

    kept = tuple(changed(config_dirs or (Path("sites"),), changed_since))
    if not kept:
        click.echo(f"no config directory changed since {changed_since}: nothing to do")
        return None
    return kept


def _one_document_each(output_format: str, allowed: tuple[str, ...]) -> None:
    if output_format not in allowed:
        raise click.UsageError(f"--format {output_format} writes one document per customer; "
                               "with several config directories use "
                               f"{', '.join(allowed)}, or one command per customer")


def _each_customer(command: click.Command, config_dirs: tuple[Path, ...],
                   detailed: bool, markdown: bool = False) -> int:
    """`command` for each customer's config directory alone (`customers.run_each`)."""
    return customers.run_each(command, config_dirs, detailed, markdown, report=_report,
                              planned_key=_PLANNED)


def _finished(report: ApplyReport) -> None:
    recorded = (f" Recorded as bought: {', '.join(printable(name) for name in report.recorded)}."
                if report.recorded else "")
    if report.setup is not None and not report.applied:
        click.echo(f"Apply complete: no change to apply; {report.setup}.{recorded}")
        return
    click.echo(f"Apply complete: {len(report.applied)} change(s) applied.{recorded}")


@cli.command()
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True, help="How to print the plan.")
def show(plan_file: Path, output_format: str) -> int:
    """Print a saved plan (from `plan --out`) in any format, as it was made: so a CI
    job can post exactly the plan file that `apply --plan` will apply.

    \b
    Example:
      reconcile show plan.json --format markdown > comment.md
    """
    document = read_plan_file(plan_file)
    view = PlanView(document, f"(saved plan {plan_file})", _colour())
    click.echo(RENDERERS[output_format](view), nl=False)
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
        f"Apply these {len(plan.changes)} changes"
        f"{' and record what was bought' if plan.purchase is not None else ''}? Only 'yes' "
        "will be accepted",
        default="", show_default=False,
    )
    if answer != "yes":
        raise click.exceptions.Abort()


def _progress(index: int, total: int, change: Change) -> None:
    click.echo(f"[{index}/{total}] {title(change)} ({change.key.site}): done")


def _environment_variables(command: click.Command, variable: str) -> None:
    """Give every option a variable, shown in --help: RECONCILER_<COMMAND>_<OPTION>
    (`apply --auto-approve`: RECONCILER_APPLY_AUTO_APPROVE), unless it names its own
    (RECONCILER_LOCK_TIMEOUT, RECONCILER_SECRET_PREFIX) or reads it itself (--tenant:
    RECONCILER_TENANT, where an empty value must be an error, not the default).
    `variable` is the command's own part: RECONCILER_APPLY. A lazily imported command
    gets its variables when it is imported (ReconcileGroup.get_command)."""
    if isinstance(command, click.Group):
        for name, subcommand in command.commands.items():
            _environment_variables(subcommand, _variable_of(variable, name))
    for param in command.params:
        if not isinstance(param, click.Option) or not param.allow_from_autoenv:
            continue
        if param.envvar is None:
            longest = max(param.opts, key=len).lstrip("-")
            param.envvar = _variable_of(variable, longest)
        param.show_envvar = True


def _variable_of(prefix: str, name: str) -> str:
    return f"{prefix}_{name.upper().replace('-', '_')}"


for _name, _command in cli.commands.items():  # those imported with this module
    _environment_variables(_command, _variable_of(ENV_PREFIX, _name))


def main() -> None:
    """The console script: a process of its own, so it may own the signal handlers, and
    end without tearing down the heap. Freeing a large tenant's millions of objects one
    by one at exit took seconds (BENCHMARKS.md); the operating system takes the memory
    back at once. Output is flushed first, and nothing of ours runs at exit."""
    stopping.install()
    standard_output.install()
    bulk.freeze_after_bulk_phases()
    try:
        cli()
        code = EXIT_OK
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else EXIT_ERROR
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or EXIT_ERROR
    os._exit(code)
