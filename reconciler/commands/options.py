"""Options shared by several commands, and how their values are resolved."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from reconciler.providers import DEFAULT_TENANT_URL

#: `plan --format list-upload`: write the List Download upload file, not the plan.
UPLOAD_FORMAT = "list-upload"

F = TypeVar("F", bound=Callable[..., Any])
TENANT_VARIABLE = "RECONCILER_TENANT"


def config_dir_argument(command: F) -> F:
    return click.argument(
        "config_dir", required=False, default="sites", type=click.Path(path_type=Path)
    )(command)


def config_dirs_argument(command: F) -> F:
    """CONFIG_DIR..., for the commands one customer or several can run (`customers`)."""
    return click.argument(
        "config_dirs", nargs=-1, type=click.Path(path_type=Path), metavar="[CONFIG_DIR]..."
    )(command)


def changed_since_option(command: F) -> F:
    return click.option(
        "--changed-since", "changed_since", metavar="REF",
        help="Only the config directories with a file changed since this git ref "
             "(docs/commands.md, \"Many customers\").")(command)


def tenant_option(command: F) -> F:
    # No click envvar: click reads an empty variable as unset and would fall back to
    # the default tenant in silence; `tenant_url` tells the two apart.
    return click.option(
        "--tenant", "tenant", default=None, metavar="URL", allow_from_autoenv=False,
        help=f"The tenant (env {TENANT_VARIABLE}; default {DEFAULT_TENANT_URL}).",
    )(command)


def tenant_url(given: str | None) -> str:
    """The tenant chosen: --tenant, else RECONCILER_TENANT, else the default. An empty
    value is passed on, so that it is refused rather than replaced by the default."""
    if given is not None:
        return given
    return os.environ.get(TENANT_VARIABLE, DEFAULT_TENANT_URL)


def site_filter_options(command: F) -> F:
    command = click.option(
        "--exclude-site", "exclude_sites", multiple=True, metavar="NAME",
        shell_complete=_site_names,
        help="Leave this site out (repeatable).")(command)
    return click.option(
        "--site", "sites", multiple=True, metavar="NAME", shell_complete=_site_names,
        help="Only this site (repeatable); rules still see the whole tenant.")(command)


def _site_names(context: click.Context, param: click.Parameter, incomplete: str
                ) -> list[str]:
    """The site folders of the config directory being typed (default ./sites), for
    shell completion: names only, nothing is read."""
    given = context.params.get("config_dir") or (context.params.get("config_dirs") or [None])[0]
    folder = Path(given or "sites")
    try:
        names = [entry.name for entry in folder.iterdir()
                 if entry.is_dir() and not entry.name.startswith(".")]
    except OSError:
        return []
    return sorted(name for name in names if name.startswith(incomplete))


# click's ParamType is generic from 8.4 on; the floor (8.1) subclasses it plain.
if TYPE_CHECKING:
    _FloatParam = click.ParamType[float]
else:
    _FloatParam = click.ParamType


class Duration(_FloatParam):
    """Seconds, or a number with s, m or h: 90, 90s, 10m, 1h."""

    name = "duration"
    units: ClassVar[dict[str, int]] = {"": 1, "s": 1, "m": 60, "h": 3600}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(value))
        if match is None:
            self.fail(f"{value!r} is not a duration; write e.g. 30s, 10m or 1h", param, ctx)
        return float(match.group(1)) * self.units[match.group(2)]


def lock_timeout_option(command: F) -> F:
    return click.option(
        "--lock-timeout", "lock_timeout", type=Duration(), default="0s", show_default=True,
        envvar="RECONCILER_LOCK_TIMEOUT",
        help="Wait this long for another apply to release the tenant (e.g. 10m) instead "
             "of failing at once.")(command)


def secret_prefix_option(command: F) -> F:
    return click.option(
        "--secret-prefix", "secret_prefix", default=None, metavar="PREFIX",
        envvar="RECONCILER_SECRET_PREFIX",
        help="Password variables must start with this (default RECONCILER_PW_). Set where "
             "apply runs, never in the config.")(command)


def cache_options(command: F) -> F:
    command = click.option(
        "--verbose", "-v", "verbose", is_flag=True,
        help="Also say on stderr how the cache of validated site files did (hits, "
             "misses, errors).")(command)
    return click.option(
        "--no-cache", "no_cache", is_flag=True,
        help="Read and validate every site file, neither using nor writing the cache in "
             "~/.cache/ipecs-reconciler/ (env RECONCILER_CACHE=off does the same).")(command)
