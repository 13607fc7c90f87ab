"""`reconcile fmt`: the config tree in canonical form (`formatting`), comments kept."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import config_dir_argument
from reconciler.loading import config_tree
from reconciler.loading.config_loading import load_config
from reconciler.loading.yaml_reading import parse_content
from reconciler.runtime.errors import ConfigError, ReconcilerError
from reconciler.writing import formatting
from schema.declarations import TenantConfig


@click.command("fmt")
@config_dir_argument
@click.option("--check", is_flag=True,
              help="Change nothing: list the files that are not in canonical form, and "
                   "exit 1 if there are any (for CI and pre-commit).")
def fmt_command(config_dir: Path, check: bool) -> int:
    """Rewrite CONFIG_DIR (default ./sites) in the canonical form `reconcile import`
    writes: fields in the portal's order, text quoted, numbers bare, two-space indents.
    Comments, and the order of resources, stay. The tree must validate first, and is
    written only if it still means exactly the same.

    \b
    Example:
      reconcile fmt
      reconcile fmt --check sites
    """
    before = load_config(config_dir)  # problems end here, with every file:line
    changed = _formatted_files(config_dir)
    if check:
        for path in changed:
            click.echo(f"would reformat {config_tree.shown(path)}")
        click.echo(f"{len(changed)} file(s) would be reformatted" if changed else
                   "every file is in canonical form")
        return 1 if changed else 0
    if changed:
        _ensure_same_meaning(config_dir, before, changed)
    for done, (path, text) in enumerate(changed.items()):
        try:
            _replace(path, text)
        except OSError as error:
            raise ReconcilerError(
                f"cannot write {config_tree.shown(path)}: {error.strerror or error}; it is "
                f"as it was, and {done} file(s) before it were reformatted (each whole): "
                "fix the cause and run fmt again") from error
        click.echo(f"reformatted {config_tree.shown(path)}")
    click.echo(f"{len(changed)} file(s) reformatted" if changed else
               "every file is in canonical form")
    return 0


def _formatted_files(config_dir: Path) -> dict[Path, str]:
    """Each file whose canonical form differs from it, with that form."""
    tree = config_tree.walk(config_dir)
    files = [(tree.tenant_file, formatting.tenant_file)] if tree.tenant_file else []
    files += [(path, formatting.site_file) for _, path in tree.site_files]
    changed = {}
    for path, form in files:
        content = path.read_bytes()
        text = content.decode("utf-8")
        formatted = form(text, parse_content(content, config_tree.shown(path)).data)
        if formatted != text:
            changed[path] = formatted
    return changed


def _ensure_same_meaning(config_dir: Path, before: TenantConfig,
                         changed: dict[Path, str]) -> None:
    """The formatted tree, loaded from a copy, declares exactly what the tree does."""
    with tempfile.TemporaryDirectory(prefix="reconcile-fmt-") as scratch:
        copy = Path(scratch) / "sites"
        shutil.copytree(config_dir, copy, symlinks=True)
        for path, text in changed.items():
            (copy / path.relative_to(config_dir)).write_text(text, encoding="utf-8")
        try:
            after = load_config(copy)
        except ConfigError as error:
            raise ReconcilerError(f"the canonical form would not validate ({error}); nothing "
                                  "was written. This is a bug of fmt: please report it with "
                                  "the file") from error
    if _meaning(after) != _meaning(before):
        raise ReconcilerError("the canonical form would change what the tree declares; "
                              "nothing was written. This is a bug of fmt: please report it "
                              "with the file")


def _meaning(config: TenantConfig) -> Any:
    return (config.settings.model_dump(),
            sorted((str(d.key), repr(sorted(d.fields().items()))) for d in config.declared),
            {site: declared.settings.model_dump()
             for site, declared in config.site_settings.items()})


def _replace(path: Path, text: str) -> None:
    """Written whole or not at all, with the file's mode kept."""
    temporary = path.with_name(f".{path.name}.fmt-tmp")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, path.stat().st_mode & 0o7777)
    os.replace(temporary, path)
