"""The reference in docs/, by topic: every command the CLI offers is in the commands
table, every command the table names exists, and every link between the pages leads
to a file that is there."""

from __future__ import annotations

import re
import subprocess
import sys

import click

from reconciler.cli import cli
from tests.conftest import REPO, subcommands

DOCS = REPO / "docs"


def _offered() -> set[str]:
    names = set()
    for name, command in subcommands(cli).items():
        if isinstance(command, click.Group):
            names |= {f"{name} {sub}" for sub in subcommands(command)}
        else:
            names.add(name)
    return names


def test_every_command_is_in_the_commands_table_and_only_those() -> None:
    table = (DOCS / "commands.md").read_text()
    named = set()
    for row in re.findall(r"^\| `reconcile ([a-z -]+?)(?: [A-Z\[].*?)?` \|", table, re.M):
        named.add(row.strip())
    offered = _offered()
    assert offered - named == set(), "commands missing from docs/commands.md"
    assert named - offered == set(), "docs/commands.md names commands that do not exist"


def test_every_link_leads_to_a_file_that_is_there() -> None:
    pages = [REPO / "README.md", *DOCS.glob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert broken == []


def test_the_readme_is_a_first_read() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) <= 400


def test_architecture_names_every_module() -> None:
    """A newcomer finds every module in ARCHITECTURE.md's map."""
    text = (REPO / "ARCHITECTURE.md").read_text()
    modules = [path for folder in ("reconciler", "schema")
               for path in sorted((REPO / folder).rglob("*.py")) if path.name != "__init__.py"]
    unnamed = [str(path.relative_to(REPO)) for path in modules if path.stem not in text]
    assert unnamed == []


def test_the_house_keeps_its_shape() -> None:
    """Issue 22's limits, read from the figures ARCHITECTURE.md gives
    (benchmarks/import_graph.py): at most 15 loose modules at the top of reconciler/,
    no module over 400 lines, about 9 layers."""
    result = subprocess.run([sys.executable, "benchmarks/import_graph.py"], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True)
    figures = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert int(figures["loose"][0]) <= 15
    assert figures["over"][1] == "0", figures["over"]
    assert int(figures["layers"][0]) <= 10
