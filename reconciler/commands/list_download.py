"""`reconcile list-download inspect FILE`, and the upload file that `plan --format
list-upload` writes: the CLI's side of the portal's List Download."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.options import UPLOAD_FORMAT
from reconciler.loading.config_loading import load_tenant_settings
from reconciler.loading.config_tree import TENANT_FILE
from reconciler.output.list_upload import write_upload
from reconciler.providers import Provider
from reconciler.providers.list_download import ListDownloadTenant
from reconciler.providers.list_download.columns import (
    describe_columns,
    map_columns,
    require_columns,
)
from reconciler.providers.list_download.workbook import read_sheet
from reconciler.runs import Planned
from reconciler.runtime.errors import ReconcilerError
from schema.list_download_settings import ListDownloadSettings


@click.group("list-download")
def list_download_group() -> None:
    """The portal's User Setup List Download file, read as a tenant with
    --tenant list-download:///FILE.xlsx (read only).

    \b
    Example:
      reconcile list-download inspect list.xlsx
    """


@list_download_group.command("inspect")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--config", "config_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("sites"), show_default=True,
              help="The config whose tenant.yaml sets list_download: (the portal's labels "
                   "when it has none).")
def inspect(file: Path, config_dir: Path) -> int:
    """Print the headers FILE has and the field each maps to, to set up
    list_download: in tenant.yaml from a first real download.

    \b
    Example:
      reconcile list-download inspect list.xlsx --config sites
    """
    settings, source = ListDownloadSettings(), "the portal's labels (no tenant.yaml)"
    if (config_dir / TENANT_FILE).is_file():
        settings = load_tenant_settings(config_dir).list_download
        source = f"{config_dir / TENANT_FILE}'s list_download"
    sheet = read_sheet(file, settings.sheet)
    columns = map_columns(file, sheet, settings)
    rows = sum(1 for row in sheet.rows
               if any(cell.value is not None and str(cell.value).strip() for cell in row))
    click.echo(f"{file}: sheet {sheet.name!r} of {len(sheet.sheets)} "
               f"({', '.join(map(repr, sheet.sheets))}); {rows} row(s) of users")
    click.echo(f"Columns, as read with {source}:")
    for line in describe_columns(columns, sheet):
        click.echo(line)
    absent = [f"{name} ({header!r})" for name, header in settings.headers().items()
              if name not in columns.by_field]
    if absent:
        click.echo(f"Not in the file (not compared): {', '.join(absent)}")
    require_columns(file, sheet, columns, settings)
    return 0


def upload_file(planned: Planned, provider: Provider, out: Path | None,
                secret_prefix: str | None) -> None:
    """Write the upload file and say what it carries and what it leaves to the runbook."""
    if not isinstance(provider, ListDownloadTenant):
        raise click.UsageError(f"--format {UPLOAD_FORMAT} edits a downloaded List Download: "
                               "use it with --tenant list-download:///FILE.xlsx")
    if out is None:
        raise click.UsageError(f"--format {UPLOAD_FORMAT} writes a file: name it with --out "
                               "edits.xlsx")
    if out.suffix.lower() != provider.path.suffix.lower():
        raise ReconcilerError(f"--out {out} should end in {provider.path.suffix}, as the "
                              "downloaded file does: the upload is the same kind of file")
    upload = write_upload(planned.plan, provider, out, secret_prefix)
    click.echo(f"wrote {out}: {provider.path} with the names, e-mails and portal passwords "
               f"of {len(upload.edited)} user(s) changed; upload it in User Setup.")
    if upload.left:
        click.echo(f"Not in the upload file, do these by the runbook "
                   f"(--format runbook): {len(upload.left)}")
        for line in upload.left:
            click.echo(f"  {line}")
    if upload.passwords:
        click.echo(f"warning: {out} holds {upload.passwords} portal password(s). It is "
                   "readable by you only; upload it, then delete it. Never keep it as a CI "
                   "artifact or commit it.", err=True)
