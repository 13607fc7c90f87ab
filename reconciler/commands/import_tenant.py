"""`reconcile import`: write the sites/ tree of an existing tenant."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands.options import (
    lock_timeout_option,
    secret_prefix_option,
    site_filter_options,
    tenant_option,
    tenant_url,
)
from reconciler.loading.secrets import allowed_prefix
from reconciler.plans import SiteFilter
from reconciler.providers import Provider, open_provider
from reconciler.writing.import_update import update_run
from reconciler.writing.importing import ImportRequest, adopt_if_asked, import_run, readable_state


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
@click.option("--update", is_flag=True,
              help="Write the tenant's current values into the existing tree in DIR by the "
                   "smallest edit: changed values, resources added and removed; every other "
                   "line (comments, order, style) stays as it is.")
@click.option("--adopt", is_flag=True,
              help="Also mark the imported resources made by hand as managed, so that "
                   "removing one from the config deletes it (takes the tenant's lock).")
@secret_prefix_option
@lock_timeout_option
def import_command(tenant: str | None, out: Path, sites: tuple[str, ...],
                   exclude_sites: tuple[str, ...], force: bool, update: bool, adopt: bool,
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
    if update and force:
        raise click.UsageError("--update edits the tree in place; --force replaces it: "
                               "give one of them")
    request = ImportRequest(out, SiteFilter(sites, exclude_sites), force, adopt,
                            secret_prefix, lock_timeout)
    provider = open_provider(tenant_url(tenant))
    if update:
        try:
            return _update(provider, request)
        finally:
            provider.close()
    try:
        imported = import_run(provider, request)
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


def _update(provider: Provider, request: ImportRequest) -> int:
    state = readable_state(provider, request)
    updated, checked = update_run(provider, state, request.out, request.chosen,
                                  allowed_prefix(request.secret_prefix))
    out = request.out
    if not updated.files:
        click.echo(f"{out}/ already holds the tenant's values: nothing to update.")
    else:
        click.echo(f"updated {len(updated.files)} file(s) in {out}/: {updated.values} value(s) "
                   f"changed, {updated.added} resource(s) added, {updated.removed} removed.")
        for name in updated.files:
            click.echo(f"  {name}")
    adopted = adopt_if_asked(provider, request, checked)
    if adopted:
        click.echo(f"adopted {adopted} resource(s) made by hand: they are managed now.")
    elif updated.to_adopt:
        click.echo(f"checked: {out}/ validates; its plan adopts {updated.to_adopt} resource(s) "
                   "made by hand and changes nothing else.")
    else:
        click.echo(f"checked: {out}/ validates and plans no changes against the tenant.")
    return 0
