"""Golden files: every format of the plan, for the example tenant and a larger scenario.

A plan read in a pull request is the product, so its text is reviewed like code:
a change to a renderer shows up as a change to these files. To accept one:
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_plans.py`, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.rendering import RENDERERS
from tests.conftest import Run
from tests.tenant_helpers import mark_unmanaged

GOLDEN = Path(__file__).parent / "golden"
# Every registered format has golden files; a new one gets them by being registered.
SUFFIXES = {"markdown": "md", "json": "json", "gitlab": "json"}
FORMATS = {name: SUFFIXES.get(name, "txt") for name in RENDERERS}


def _check(name: str, content: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(content)
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 and review it"
    assert content == path.read_text(), f"{name} differs from its golden file"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _larger_scenario(run: Run, sites: Path, tmp_path: Path) -> None:
    """The example after a week of changes: every kind of change a plan can hold."""
    _edit(sites / "Main" / "users.yaml", "users:\n", 'users:\n  - extension: "0888"\n'
          '    name: made by hand\n    package: Empty User Pack\n    devices: ["1030"]\n\n')
    assert run("apply", "--auto-approve").exit_code == 0
    mark_unmanaged(tmp_path / ".reconciler" / "tenant.db", "0888")
    users = sites / "Main" / "users.yaml"
    _edit(users, '  - extension: "0888"\n    name: made by hand\n    package: Empty User Pack\n'
          '    devices: ["1030"]\n\n', "")
    _edit(users, "name: test vqm", "name: Reception")                      # update
    _edit(users, '  - extension: "0965"', '  - extension: "0966"\n'
          '    previous_extension: "0965"')                                # renumber
    _edit(users, '    call_barring: common\n\n  - extension: "01230"',      # direct dial swap
          '    call_barring: common\n    direct_dial_number: "024801030"\n\n'
          '  - extension: "01230"')
    _edit(users, '  - extension: "01401"\n    name: test 1401\n    package: Empty User Pack\n'
          '    devices: [IP-DECT 110]\n    call_barring: common\n', "")
    _edit(sites / "Main" / "hot-desk-users.yaml", "hot_desk_users:\n",     # replace
          'hot_desk_users:\n  - extension: "01401"\n    name: test 1401\n'
          "    package: Empty User Pack\n\n")
    lines = sites / "Main" / "shared-lines.yaml"
    _edit(lines, '    direct_dial_number: "024801030"\n', '    direct_dial_number: "024801031"\n')
    _edit(lines, '\n  - number: "3000"\n', "\n")                           # delete
    _edit(lines, "        ring_delay: 0\n", "        ring_delay: 0\n"       # new member
          '      - extension: "1200"\n        button: 2\n        ring_delay: 9\n')
    (sites / "Annex").mkdir()                                              # new site
    (sites / "Annex" / "users.yaml").write_text(
        'users:\n  - {extension: "1200", name: Annex desk, package: Empty User Pack,\n'
        '     devices: [MS Teams Connect], password: {env: RECONCILER_PW_1200},\n'
        '     group_member_type: multi_site}\n')


@pytest.mark.parametrize("output_format", list(FORMATS))
def test_example_plan(run: Run, example_sites: Path, output_format: str) -> None:
    result = run("plan", "--format", output_format)
    assert result.exit_code == 0, result.stderr
    _check(f"example.{output_format}.{FORMATS[output_format]}", result.stdout)


@pytest.mark.parametrize("output_format", list(FORMATS))
def test_larger_plan(run: Run, example_sites: Path, tmp_path: Path, output_format: str) -> None:
    _larger_scenario(run, example_sites, tmp_path)
    result = run("plan", "--format", output_format)
    assert result.exit_code == 0, result.stderr
    _check(f"larger.{output_format}.{FORMATS[output_format]}", result.stdout)


def test_larger_plan_applies_with_force(run: Run, example_sites: Path, tmp_path: Path) -> None:
    _larger_scenario(run, example_sites, tmp_path)
    env = {"RECONCILER_PW_1200": "annex-desk-pw1"}
    assert run("apply", "--auto-approve", env=env).exit_code == 1  # deletes need --force
    applied = run("apply", "--auto-approve", "--force", env=env)
    assert applied.exit_code == 0, applied.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0
