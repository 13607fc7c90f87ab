"""Shared test helpers: config trees written from YAML text, and the CLI run in-process."""

from __future__ import annotations

import inspect
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli

REPO = Path(__file__).resolve().parent.parent


def subcommands(group: click.Group) -> dict[str, click.Command]:
    """A group's commands as a user reaches them, the lazily imported ones included
    (`group.commands` holds only those imported so far)."""
    context = click.Context(group)
    found = {name: group.get_command(context, name) for name in group.list_commands(context)}
    return {name: command for name, command in found.items() if command is not None}
EXAMPLE_SITES = REPO / "sites"

TENANT_YAML = """\
tenant: Test Tenant
platform_version: "6.0"
licences:
  shared_lines: 5
  shared_licensing: true
packages:
  Basic: 10
  Premium: 10
"""

Run = Callable[..., Result]
WriteTree = Callable[..., Path]


@pytest.fixture(autouse=True, scope="session")
def _cache_key_outside_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The cache's key file is made under XDG_CACHE_HOME: a private one for the tests,
    never the real home's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.delenv("RECONCILER_CACHE_KEY", raising=False)
        patch.delenv("RECONCILER_CACHE", raising=False)
        yield


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write a config tree: {relative path: YAML text}; tenant.yaml defaults to TENANT_YAML."""

    def write(files: dict[str, str], *, tenant: str | None = TENANT_YAML,
              root: str = "sites") -> Path:
        base = tmp_path / root
        base.mkdir(parents=True, exist_ok=True)
        if tenant is not None:
            (base / "tenant.yaml").write_text(tenant)
        for relative, content in files.items():
            path = base / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content))
        return base

    return write


@pytest.fixture
def example_sites(tmp_path: Path) -> Path:
    """A private copy of the worked example, safe to edit."""
    target = tmp_path / "sites"
    shutil.copytree(EXAMPLE_SITES, target)
    return target


def cli_runner() -> CliRunner:
    """stdout and stderr apart: click 8.2 on does so by itself; 8.1 (the floor) is asked."""
    return CliRunner(**_RUNNER_OPTIONS)


#: Worked out once: click 8.2 removed mix_stderr (and keeps the streams apart).
_RUNNER_OPTIONS: dict[str, bool] = (
    {"mix_stderr": False}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters else {})


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `reconcile ...` in-process from tmp_path, with a private default tenant."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_TENANT", raising=False)

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None
               ) -> Result:
        result = cli_runner().invoke(cli, list(args), input=input, env=env,
                                  catch_exceptions=False)
        if _RUNNER_OPTIONS:
            result.__class__ = _BothStreams
        return result

    return invoke


class _BothStreams(Result):
    """click 8.1's Result with `output` as 8.2 gives it, what the user saw on either
    stream (8.1, asked to keep them apart, gives stdout only)."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(params=["calamine", "openpyxl"])
def xlsx_reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each List Download test on both .xlsx readers (workbook.READERS), in process."""
    reader: str = request.param
    monkeypatch.setenv("RECONCILER_XLSX_READER", reader)
    return reader


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the whole session (see tests/postgres_server.py)."""
    from tests.postgres_server import running_server

    with running_server() as url:
        yield url
