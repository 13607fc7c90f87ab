"""`reconcile fmt`: the canonical form `import` writes, comments kept, meaning unchanged."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings

from reconciler.loading.config_loading import load_config
from reconciler.plans import build_plan
from reconciler.plans.serializing import checksum
from reconciler.runtime.errors import ConfigError
from schema.state import TenantState
from tests.conftest import REPO, Run, WriteTree
from tests.test_property_apply import TenantSpec, tenants, write_sites

MESSY = """\
# Main's users: kept as written, comments and all.
users:
  - {name: Ann, package: Basic, extension: 0901, devices: [1030, iPECS One], mac: 001a2b3c4d5e}

  # Bob sits at reception
  - devices:
      - "1030"
    extension: "1002"   # his desk
    name: Bob
    package: "Basic"
shared_lines:
  - number: "555"
    members:
      - {extension: "0901", ring_delay: "3", button: 1}
      - extension: "1002"   # second
        button: 2
"""

CANONICAL = """\
# Main's users: kept as written, comments and all.
users:
  - extension: "0901"
    name: "Ann"
    package: "Basic"
    devices: ["1030", "iPECS One"]
    mac: "001a2b3c4d5e"

  # Bob sits at reception
  - extension: "1002"   # his desk
    name: "Bob"
    package: "Basic"
    devices: ["1030"]
shared_lines:
  - number: "555"
    members:
      - {extension: "0901", button: 1, ring_delay: 3}
      - extension: "1002"   # second
        button: 2
"""


def test_a_tree_is_put_in_canonical_form_keeping_comments(run: Run, write_tree: WriteTree
                                                          ) -> None:
    sites = write_tree({"Main/users.yaml": MESSY})
    before = load_config(sites)
    assert [w.rule for w in before.warnings].count("yaml.scalar-type") == 3
    checked = run("fmt", "--check")
    assert checked.exit_code == 1
    assert checked.stdout.splitlines() == ["would reformat sites/tenant.yaml",
                                           "would reformat sites/Main/users.yaml",
                                           "2 file(s) would be reformatted"]
    assert (sites / "Main" / "users.yaml").read_text() == MESSY  # --check writes nothing
    done = run("fmt")
    assert done.exit_code == 0, done.output
    assert (sites / "Main" / "users.yaml").read_text() == CANONICAL
    after = load_config(sites)
    assert after.warnings == []  # every value now written as the editor schema's type
    assert checksum(build_plan(after, TenantState())) == checksum(
        build_plan(before, TenantState()))
    again = run("fmt", "--check")
    assert again.exit_code == 0 and again.stdout == "every file is in canonical form\n"


def test_an_imported_tree_is_already_canonical(run: Run, example_sites: Path,
                                               tmp_path: Path) -> None:
    assert run("apply", "--auto-approve", str(example_sites)).exit_code == 0
    assert run("import", "--out", "imported").exit_code == 0
    files = {p: p.read_bytes() for p in (tmp_path / "imported").rglob("*.yaml")}
    result = run("fmt", "imported")
    assert result.exit_code == 0 and "every file is in canonical form" in result.stdout
    assert {p: p.read_bytes() for p in files} == files


def test_a_tree_with_problems_is_not_touched(run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": MESSY,
                        "Main/more.yaml": "users:\n  - {extension: '1', name: X}\n"})
    result = run("fmt")
    assert result.exit_code == 1
    assert re.search(r"sites/Main/more\.yaml:2:\d+: .*\[numbering.format\]", result.stderr)
    assert (sites / "Main" / "users.yaml").read_text() == MESSY


def test_the_pre_commit_hook_refuses_a_tree_out_of_form(run: Run, write_tree: WriteTree
                                                        ) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "reconcile-fmt")
    assert hook["pass_filenames"] is False and re.search(hook["files"], "sites/A/b.yaml")
    program, *arguments = hook["entry"].split()
    assert program == "reconcile"
    write_tree({"Main/users.yaml": CANONICAL})
    assert run(*arguments).exit_code == 1  # tenant.yaml is not in canonical form yet
    assert run("fmt").exit_code == 0
    assert run(*arguments).exit_code == 0


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=tenants())
def test_any_accepted_tree_keeps_its_meaning_and_formats_once(spec: TenantSpec) -> None:
    from click.testing import CliRunner

    from reconciler.cli import cli

    with tempfile.TemporaryDirectory() as scratch:
        sites = write_sites(Path(scratch), spec)
        try:
            before = load_config(sites)
        except ConfigError:
            assume(False)  # only a tree that validates is formatted
        first = CliRunner().invoke(cli, ["fmt", str(sites)], catch_exceptions=False)
        assert first.exit_code == 0, first.output
        after = load_config(sites)
        assert checksum(build_plan(after, TenantState())) == checksum(
            build_plan(before, TenantState()))
        texts = {p: p.read_text() for p in sites.rglob("*.yaml")}
        second = CliRunner().invoke(cli, ["fmt", str(sites)], catch_exceptions=False)
        assert "every file is in canonical form" in second.output
        assert {p: p.read_text() for p in texts} == texts


def test_a_form_that_would_change_the_meaning_is_never_written(
        run: Run, write_tree: WriteTree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read as YAML 1.2, a bare 0901 is the number 901: were the canonical form ever made
    from that reading, fmt would refuse it rather than write another extension."""
    from reconciler.writing import formatting

    sites = write_tree({"Main/users.yaml": MESSY})
    real = formatting.site_file
    monkeypatch.setattr(formatting, "site_file",
                        lambda text, data: real(text, data).replace('"0901"', '"901"'))
    result = run("fmt")
    assert result.exit_code == 1
    assert "would change what the tree declares; nothing was written" in result.stderr
    assert (sites / "Main" / "users.yaml").read_text() == MESSY


def test_a_file_that_cannot_be_written_is_said_and_left_whole(run: Run,
                                                              write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": MESSY})
    (sites / "Main" / ".users.yaml.fmt-tmp").mkdir()  # where fmt writes it first
    result = run("fmt")
    assert result.exit_code == 1
    assert "cannot write sites/Main/users.yaml:" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert (sites / "Main" / "users.yaml").read_text() == MESSY
