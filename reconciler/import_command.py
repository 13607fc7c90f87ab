"""`reconcile import`: write the sites/ tree of an existing tenant."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli_options import (
    lock_timeout_option,
    secret_prefix_option,
    site_filter_options,
    tenant_option,
    tenant_url,
)
from reconciler.importing import ImportRequest, import_run
from reconciler.providers import open_provider


@click.command("import")
@tenant_option
@click.option("--out", "out", default="sites", show_default=True, metavar="DIR",
              type=click.Path(path_type=Path), envvar="RECONCILER_IMPORT_OUT",
              help="Where to write the tree. It must be empty "
                   "or new, unless --force.")
@site_filter_options
@click.option("--force", is_flag=True,
              help="Replace tenant.yaml and the chosen sites' YAML files in a non-empty DIR "
                   "(other files are left alone).")
@click.option("--adopt", is_flag=True,
              help="Also mark the imported resources made by hand as managed, so that "
                   "removing one from the config deletes it (takes the tenant's lock).")
@secret_prefix_option
@lock_timeout_option
def import_command(tenant: str | None, out: Path, sites: tuple[str, ...],
                   exclude_sites: tuple[str, ...], force: bool, adopt: bool,
                   secret_prefix: str | None, lock_timeout: float) -> int:
    """Write the sites/ tree that declares an existing tenant, then check it.

    One file per site and kind, fields in the portal's order, numbers quoted,
    passwords never written. The tree is checked before this returns: it
    validates, and a plan of it against the same tenant is empty, apart from
    adopting resources made by hand (which --adopt does at once).

    \b
    Example:
      reconcile import --tenant sqlite:///.reconciler/tenant.db --out sites
      reconcile import --tenant 'postgresql://ci@db/phones?tenant=acme' --out sites --adopt
    """
    provider = open_provider(tenant_url(tenant))
    try:
        imported = import_run(provider, ImportRequest(
            out, sites, exclude_sites, force, adopt, secret_prefix, lock_timeout))
        name = provider.read_state().identity
    finally:
        provider.close()
    tenant_name = json.dumps(name.name) if name else "the tenant"
    click.echo(f"imported {imported.resources} resource(s) of {tenant_name} from "
               f"{provider.description} into {out}/ ({len(imported.sites)} site(s)"
               f"{': ' + ', '.join(imported.sites) if imported.sites else ''}; "
               f"{len(imported.files)} file(s)).")
    if imported.adopted:
        click.echo(f"adopted {imported.adopted} resource(s) made by hand: they are managed "
                   "now, and removing one from the config deletes it.")
    if imported.to_adopt and not imported.adopted:
        click.echo(f"checked: {out}/ validates; its plan adopts {imported.to_adopt} "
                   "resource(s) made by hand and changes nothing else (apply it after "
                   "review, or import with --adopt).")
    else:
        click.echo(f"checked: {out}/ validates and plans no changes against the tenant.")
    return 0
