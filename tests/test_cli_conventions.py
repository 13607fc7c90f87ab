"""CLI conventions users script against: variables for every option, examples in every
--help, shell completion, a version that names the schema."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml

from reconciler.cli import cli
from tests.conftest import REPO, Run, subcommands

RECONCILE = Path(sys.executable).with_name("reconcile")


def _commands(group: click.Group = cli, path: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    for name, command in subcommands(group).items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


ALL = list(_commands())


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) or "reconcile" for p, _ in ALL])
def test_every_option_has_a_variable_named_in_help(run: Run, path: tuple[str, ...],
                                                   command: click.Command) -> None:
    shown = re.sub(r"\s+", " ", run(*path, "--help").stdout)
    for param in command.params:
        if not isinstance(param, click.Option) or param.name == "version":
            continue
        if param.name == "tenant":
            assert "env RECONCILER_TENANT" in shown
            continue
        assert isinstance(param.envvar, str) and param.envvar.startswith("RECONCILER_")
        assert f"env var: {param.envvar}" in shown, (path, param.name)


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) or "reconcile" for p, _ in ALL])
def test_every_help_carries_an_example(run: Run, path: tuple[str, ...],
                                       command: click.Command) -> None:
    shown = run(*path, "--help").stdout
    assert "Example:\n    reconcile" in shown or "Example:\n  reconcile" in shown, shown


def test_an_option_is_read_from_its_variable(run: Run, example_sites: Path) -> None:
    as_json = run("plan", str(example_sites), env={"RECONCILER_PLAN_FORMAT": "json"})
    assert as_json.exit_code == 0 and as_json.stdout.startswith("{")
    only = run("validate", str(example_sites), env={"RECONCILER_VALIDATE_SITE": "Nowhere"})
    assert only.exit_code == 1 and "no site named Nowhere" in only.stderr


def test_version_names_the_tool_and_its_schema(run: Run) -> None:
    assert re.fullmatch(r"ipecs-reconciler \S+ \(tenant schema \d+, plan format \d+\)\n",
                        run("--version").stdout)


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F"),
                                               ("zsh", "#compdef reconcile"),
                                               ("fish", "complete --no-files --command reconcile")])
def test_shell_completion_scripts(shell: str, marker: str) -> None:
    script = subprocess.run([str(RECONCILE)], env={**os.environ,
                                                   "_RECONCILE_COMPLETE": f"{shell}_source"},
                            capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and marker in script.stdout


def test_completion_offers_commands_and_options() -> None:
    env = {**os.environ, "_RECONCILE_COMPLETE": "bash_complete"}
    commands = subprocess.run([str(RECONCILE)], capture_output=True, text=True, timeout=60,
                              env={**env, "COMP_WORDS": "reconcile pl", "COMP_CWORD": "1"})
    assert "plain,plan" in commands.stdout.splitlines()
    options = subprocess.run([str(RECONCILE)], capture_output=True, text=True, timeout=60,
                             env={**env, "COMP_WORDS": "reconcile apply --lock",
                                  "COMP_CWORD": "2"})
    assert "plain,--lock-timeout" in options.stdout.splitlines()


def test_the_pre_commit_hook_validates_the_whole_tree(run: Run, example_sites: Path) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "reconcile-validate")
    files = re.compile(hook["files"])
    assert files.search("sites/Main/users.yaml") and files.search("sites/tenant.yaml")
    assert files.search("sites/Branch/Lines.YML") and not files.search("README.md")
    assert hook["pass_filenames"] is False and hook["language"] == "python"
    program, *arguments = hook["entry"].split()
    assert program == "reconcile"  # the console script this package installs
    assert run(*arguments, str(example_sites)).exit_code == 0
    (example_sites / "Main" / "users.yaml").write_text("users: [{extension: 1}]\n")
    assert run(*arguments, str(example_sites)).exit_code == 1


def test_python_dash_m_runs_the_cli(example_sites: Path, tmp_path: Path) -> None:
    from tests.processes import environment

    done = subprocess.run([sys.executable, "-m", "reconciler", "plan", str(example_sites)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env=environment(tmp_path / "t.db"))
    assert done.returncode == 0, done.stderr
    assert "Plan: 8 to create" in done.stdout


@pytest.mark.parametrize(("setting", "coloured"), [
    ({}, False), ({"FORCE_COLOR": "1"}, True), ({"CLICOLOR_FORCE": "1"}, True),
    ({"FORCE_COLOR": "0"}, False), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ({"FORCE_COLOR": "1", "--no-color": ""}, False)])
def test_colour_follows_the_conventions_where_stdout_is_not_a_terminal(
        example_sites: Path, tmp_path: Path, setting: dict[str, str], coloured: bool) -> None:
    """A CI log is not a terminal: FORCE_COLOR or CLICOLOR_FORCE colour it; NO_COLOR and
    --no-color always win."""
    from tests.processes import environment

    env = {key: value for key, value in environment(tmp_path / "t.db").items()
           if key not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
    options = [key for key in setting if key.startswith("--")]
    env.update({key: value for key, value in setting.items() if not key.startswith("--")})
    done = subprocess.run([str(RECONCILE), *options, "plan", str(example_sites)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert ("\x1b[" in done.stdout) is coloured


def test_the_version_is_written_once() -> None:
    """pyproject.toml reads it from reconciler/__init__.py; the installed metadata,
    --version and CHANGELOG agree."""
    import importlib.metadata

    import reconciler

    assert importlib.metadata.version("ipecs-reconciler") == reconciler.__version__
    assert 'version = "' not in (REPO / "pyproject.toml").read_text().split(
        "[project.optional-dependencies]")[0]
    assert (REPO / "CHANGELOG.md").read_text().startswith("# Changelog")


def test_site_options_complete_the_site_folders(example_sites: Path) -> None:
    (example_sites / "Branch").mkdir()
    env = {**os.environ, "_RECONCILE_COMPLETE": "bash_complete"}
    for option in ("--site", "--exclude-site"):
        done = subprocess.run([str(RECONCILE)], capture_output=True, text=True, timeout=60,
                              cwd=example_sites.parent,
                              env={**env, "COMP_WORDS": f"reconcile plan {option} B",
                                   "COMP_CWORD": "3"})
        assert done.stdout.splitlines() == ["plain,Branch"], option
