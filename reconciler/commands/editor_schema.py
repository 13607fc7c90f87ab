"""`reconcile schema`: the JSON Schemas editors read to check the config as it is typed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import secret_prefix_option
from reconciler.loading import secrets
from schema.json_schemas import SITE_FILE, TENANT_FILE, site_file_schema, tenant_file_schema

SCHEMAS = {"site": (SITE_FILE, site_file_schema), "tenant": (TENANT_FILE, tenant_file_schema)}


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@click.command("schema")
@click.argument("which", type=click.Choice(tuple(SCHEMAS)), default="site")
@click.option("--write", "write_dir", type=click.Path(path_type=Path), metavar="DIR",
              envvar="RECONCILER_SCHEMA_WRITE",
              help=f"Write both schemas into DIR ({SITE_FILE}, {TENANT_FILE}) instead of "
                   "printing one.")
@secret_prefix_option
def schema_command(which: str, write_dir: Path | None, secret_prefix: str | None) -> int:
    """Print the JSON Schema (draft-07) of a site file (WHICH=site) or of tenant.yaml.

    The YAML language server (VS Code's YAML extension and others) reads it and
    marks unknown fields, wrong types and malformed numbers as they are typed.
    Cross-object rules (numbering plan, seats, members) need `reconcile validate`.
    Password variables must start with --secret-prefix (RECONCILER_PW_ by default):
    give the one validate is given.

    \b
    Example:
      reconcile schema --write schema
      reconcile schema tenant > tenant-file.schema.json
    """
    prefix = secrets.allowed_prefix(secret_prefix)

    def made(which: str) -> dict[str, Any]:
        return site_file_schema(prefix) if which == "site" else tenant_file_schema()

    if write_dir is None:
        click.echo(schema_text(made(which)), nl=False)
        return 0
    write_dir.mkdir(parents=True, exist_ok=True)
    for which_file, (name, _) in SCHEMAS.items():
        target = write_dir / name
        temporary = target.with_name(f".{name}.tmp")
        temporary.write_text(schema_text(made(which_file)), encoding="utf-8")
        os.replace(temporary, target)
        click.echo(f"wrote {target}")
    return 0
