"""The `reconcile` command: its root group, and what every command's failure becomes.

The commands themselves are in `reconciler.commands`; exit codes are a contract with
CI jobs (`reconciler.commands.reporting`).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, ClassVar

import click

from reconciler import __version__
from reconciler.commands.apply import apply
from reconciler.commands.plan import plan
from reconciler.commands.reporting import EXIT_ERROR, EXIT_OK, report
from reconciler.commands.show import show
from reconciler.commands.validate import validate
from reconciler.plans.serializing import FORMAT_VERSION as PLAN_FORMAT
from reconciler.providers.sqlite_storage import SCHEMA_VERSION as TENANT_SCHEMA
from reconciler.runtime import bulk, standard_output, stopping
from reconciler.runtime.errors import ReconcilerError

ENV_PREFIX = "RECONCILER"


class ReconcileGroup(click.Group):
    """A click group whose every failure is one clear message and exit code 1.

    The commands a plan never needs are imported when they are asked for (click's lazy
    group pattern): a small plan's start-up is mostly imports (BENCHMARKS.md)."""

    #: command name -> "module:attribute"
    LAZY_COMMANDS: ClassVar[dict[str, str]] = {
        "customers": "reconciler.commands.customers:customers_group",
        "fmt": "reconciler.commands.fmt:fmt_command",
        "import": "reconciler.commands.import_tenant:import_command",
        "list-download": "reconciler.commands.list_download:list_download_group",
        "local-tenant": "reconciler.commands.local_tenant:local_tenant_group",
        "schema": "reconciler.commands.editor_schema:schema_command",
        "tenant": "reconciler.commands.tenant:tenant_group",
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
            report(error)
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


for _command in (validate, plan, apply, show):
    cli.add_command(_command)


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
