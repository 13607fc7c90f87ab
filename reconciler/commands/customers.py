"""`reconcile customers changed`: the customers a pull request touched, for a CI matrix."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands.changed_customers import changed
from reconciler.commands.many_customers import customers_of


@click.group("customers")
def customers_group() -> None:
    """Many customers' config directories in one repository.

    \b
    Example:
      reconcile customers changed customers/* --since origin/main
    """


@customers_group.command("changed")
@click.argument("config_dirs", nargs=-1, required=True, type=click.Path(path_type=Path),
                metavar="CONFIG_DIR...")
@click.option("--since", "since", required=True, metavar="REF",
              help="The git ref to compare with (a pull request's base: origin/main).")
def changed_command(config_dirs: tuple[Path, ...], since: str) -> int:
    """Print, as one line of JSON, the config directories with a file changed since REF:
    [{"name": "acme", "dir": "customers/acme"}, ...], for a CI matrix.

    \b
    Example:
      reconcile customers changed customers/* --since origin/main
    """
    touched = changed(config_dirs, since)
    found = customers_of(touched)
    click.echo(json.dumps([{"name": customer.name, "dir": customer.config_dir.as_posix()}
                           for customer in found]))
    return 0
