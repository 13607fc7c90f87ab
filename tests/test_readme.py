"""README.md's promises to a newcomer: the five-minute tour runs as written and shows
what it says, and the troubleshooting table quotes what the tool really prints."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from schema.rulebook import RULES
from tests.conftest import REPO, Run

README = (REPO / "README.md").read_text()


def _section(heading: str) -> str:
    start = README.index(f"## {heading}\n")
    return README[start:README.index("\n## ", start + 1)]


def test_the_five_minute_tour_runs_as_written(tmp_path: Path) -> None:
    tour = _section("A five-minute tour")
    script = re.search(r"```sh\n(.*?)```", tour, re.S)
    shown = re.search(r"The plan in step 3 reads:\n\n```\n(.*?)```", tour, re.S)
    assert script and shown
    shutil.copytree(REPO / "sites", tmp_path / "sites")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)  # the two commands made it
    (tmp_path / ".venv" / "bin" / "activate").write_text(
        f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    done = subprocess.run(["bash", "-e", "-c", script[1]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert shown[1] in done.stdout  # the excerpt is the plan it printed
    last = done.stdout.rstrip().splitlines()[-3]
    assert last == "No changes. The tenant matches the configuration."


Edit = Callable[[Path], None]


def _replace(file: str, old: str, new: str) -> Edit:
    def edit(sites: Path) -> None:
        path = sites / file
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))
    return edit


# How each row's problem is made from the example (applied to the tenant first).
SCENARIOS: dict[str, Edit] = {
    "schema.unknown-field": _replace("Main/users.yaml", "call_barring: common",
                                     "call_baring: common"),
    "numbering.format": _replace("Main/users.yaml", 'extension: "01230"', 'extension: "1"'),
    "numbering.duplicate": _replace("Main/users.yaml", 'extension: "01401"',
                                    'extension: "0965"'),
    "numbering.prefix-collision": _replace("Main/users.yaml", 'extension: "01401"',
                                           'extension: "55"'),
    "membership.unknown-member": _replace("Main/shared-lines.yaml", 'extension: "0901"',
                                          'extension: "0902"'),
    "user.mac-required": _replace("Main/users.yaml", '    mac: "020000000965"\n', ""),
    "licences.package-seats": _replace("tenant.yaml", "Empty User Pack: 27",
                                       "Empty User Pack: 3"),
    "tenant.facts-mismatch": _replace("tenant.yaml", "shared_lines: 20", "shared_lines: 15"),
    "secrets.env-prefix": _replace("Main/users.yaml", "call_barring: common\n",
                                   "call_barring: common\n    password: {env: GITHUB_TOKEN}\n"),
    "renumber.previous-unknown": _replace(
        "Main/users.yaml", 'extension: "01401"',
        'extension: "01402"\n    previous_extension: "01499"'),
}


def _rows() -> list[tuple[str, str]]:
    rows = re.findall(r"^\| `([a-z_.-]+)` \| `(.*?)` \|", _section("Troubleshooting"), re.M)
    return [(rule, message) for rule, message in rows]


def test_the_troubleshooting_table_has_ten_real_rules() -> None:
    rules = [rule for rule, _ in _rows()]
    assert len(rules) == 10 and len(set(rules)) == 10
    assert [rule for rule in rules if rule not in RULES] == []
    assert sorted(rules) == sorted(SCENARIOS)


@pytest.mark.parametrize(("rule", "message"), _rows(), ids=[rule for rule, _ in _rows()])
def test_each_troubleshooting_message_is_what_the_tool_prints(
        run: Run, example_sites: Path, rule: str, message: str) -> None:
    assert run("apply", "--auto-approve", str(example_sites)).exit_code == 0
    SCENARIOS[rule](example_sites)
    result = run("plan", str(example_sites))
    assert result.exit_code == 1
    assert message in result.stderr and f"[{rule}]" in result.stderr, result.stderr
