"""The crash matrix: stop `reconcile apply` at every step, every way CI and people do, and
check that the next apply finishes exactly the work an uninterrupted apply does.

One scenario holds every kind of step: creates, updates, deletes, an adoption, a
renumber, a swap (through a temporary number), membership moves, a replace (a
user moving site) and a shared-line delete. For each step index k the apply runs
as a real process and is

- SIGKILLed inside step k's transaction, and again just after step k commits,
- sent SIGTERM inside step k (a CI cancel),
- given a disk I/O error inside step k,

and SIGKILLed, or given an error, while it creates the tenant. After each, a
plan must show the unfinished apply (where there is one), a second apply must
succeed, and the tenant must then equal the uninterrupted result: the same
resources, every pre-existing resource under its own identity (none deleted and
made again), the tenant's bookkeeping intact, and a plan with nothing left.

A longer run over a larger scenario: CRASH_MATRIX_SCALE=10 (ten times the users,
so several hundred step indexes).
"""

from __future__ import annotations

import os
import shutil
import signal
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import cli
from reconciler.providers import SqliteTenant
from schema.state import ResourceKey, TenantState
from tests.conftest import cli_runner
from tests.processes import reconcile
from tests.tenant_helpers import copy_tenant, portal_edit

#: Kills a real apply at every step: the quick tier (-m 'not slow') skips it.
pytestmark = pytest.mark.slow

SCALE = int(os.environ.get("CRASH_MATRIX_SCALE", "1"))
TENANT = """\
tenant: Crash Test
platform_version: "6.0"
licences: {shared_lines: 10, shared_licensing: true}
packages: {Basic: 200, Premium: 50}
"""


def _filler(start: int, name: str) -> str:
    """Extra users for the longer run: each renamed in the second config."""
    return "".join(f'  - {{extension: "{start + i}", name: {name}{i}, package: Basic, '
                   f'devices: ["1030"]}}\n' for i in range(10 * (SCALE - 1)))


BEFORE = {
    "Main/users.yaml": """\
        users:
          - {extension: "1001", name: Ann, package: Basic, devices: ["1030"]}
          - {extension: "1002", name: Bob, package: Basic, devices: ["1030"]}
          - {extension: "1003", name: Cat, package: Basic, devices: ["1030"]}
          - {extension: "1004", name: Dan, package: Basic, devices: ["1030"]}
          - {extension: "1005", name: Eve, package: Basic, devices: ["1030"]}
          - {extension: "1010", name: Fay, package: Basic, devices: ["1030"]}
        hot_desk_users:
          - {extension: "2001", name: Hot, package: Basic}
        shared_lines:
          - number: "600"
            members: [{extension: "1001", button: 1}, {extension: "1002", button: 2}]
          - number: "601"
            members: [{extension: "1003", button: 1}, {extension: "1004", button: 2}]
          - number: "602"
            members: [{extension: "2001", button: 1}]
        """,
    "Branch/users.yaml": "users:\n"
                         '  - {extension: "3001", name: Ivy, package: Basic, devices: ["1030"]}\n'
                         + _filler(5000, "Old"),
}
AFTER = {
    "Main/users.yaml": """\
        users:
          - {extension: "1001", name: Ann Lee, package: Basic, devices: ["1030"]}
          - {extension: "1003", previous_extension: "1002",
             name: Bob, package: Basic, devices: ["1030"]}
          - {extension: "1002", previous_extension: "1003",
             name: Cat, package: Basic, devices: ["1030"]}
          - {extension: "1055", previous_extension: "1005",
             name: Eve, package: Basic, devices: ["1030"]}
          - {extension: "1010", name: Fay, package: Premium, devices: ["1030"]}
          - {extension: "1020", name: Gil, package: Basic, devices: ["1030"]}
          - {extension: "1030", name: New, package: Basic, devices: ["1030"]}
          - {extension: "3001", name: Ivy, package: Basic, devices: ["1030"]}
        hot_desk_users:
          - {extension: "2001", name: Hot, package: Basic}
          - {extension: "2002", name: Desk, package: Basic}
        shared_lines:
          - number: "600"
            members: [{extension: "1001", button: 1}, {extension: "2002", button: 2}]
          - number: "601"
            members: [{extension: "1002", button: 1}, {extension: "1003", button: 2}]
          - number: "604"
            members: [{extension: "1030", button: 1}, {extension: "2001", button: 3}]
        """,
    "Branch/users.yaml": "users:\n" + _filler(5000, "New"),
}


def _write(sites: Path, files: dict[str, str]) -> None:
    shutil.rmtree(sites, ignore_errors=True)
    sites.mkdir(parents=True)
    (sites / "tenant.yaml").write_text(TENANT)
    for relative, content in files.items():
        (sites / relative).parent.mkdir(parents=True, exist_ok=True)
        (sites / relative).write_text(textwrap.dedent(content) if content.startswith(" ")
                                      else content)


def _cli(*args: str, tenant: Path, sites: Path) -> tuple[int, str, str]:
    result = cli_runner().invoke(cli, [*args, str(sites)], catch_exceptions=False,
                                env={"RECONCILER_TENANT": f"sqlite:///{tenant}",
                                     "RECONCILER_FAILPOINT": None})
    return result.exit_code, result.stdout, result.stderr


@dataclass
class Scenario:
    root: Path
    sites: Path
    before: Path  # the tenant before the apply under test (config BEFORE, plus hand-made)
    final: TenantState  # what the uninterrupted apply makes of it
    steps: int

    def fresh_copy(self, name: str) -> Path:
        copy = self.root / f"{name}.db"
        copy_tenant(self.before, copy)
        return copy


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("crash")
    sites = root / "sites"
    before = root / "before.db"
    _write(sites, BEFORE)
    assert _cli("apply", "--auto-approve", tenant=before, sites=sites)[0] == 0
    # Made by hand in the portal: a user to adopt, a line to leave alone.
    portal_edit(before, "INSERT INTO users (extension, site, kind, name, package, devices) "
                        "VALUES ('1020', 'Main', 'user', 'Gil', 'Basic', '[\"1030\"]')")
    portal_edit(before, "INSERT INTO shared_lines (number, site) VALUES ('603', 'Main')")
    portal_edit(before, "INSERT INTO members (line, line_held_by, extension) "
                        "VALUES ('603', 'shared_lines', '1010')")
    _write(sites, AFTER)
    baseline = root / "baseline.db"
    copy_tenant(before, baseline)
    code, out, err = _cli("apply", "--auto-approve", "--force", tenant=baseline, sites=sites)
    assert code == 0, err
    steps = out.count(": done\n")
    assert steps >= 15, out
    for expected in ("renumber user 1002 to 99999", "renumber user 1005 to 1055", "adopt user",
                     "delete shared_line 602", "move user 3001", "create shared_line 604"):
        assert expected in out, (expected, out)
    return Scenario(root, sites, before, SqliteTenant(baseline).read_state(), steps)


def _identities(state: TenantState, uids: set[str]) -> dict[str, ResourceKey]:
    return {uid: key for key, uid in state.uids.items() if uid in uids}


def _finishes_like_the_baseline(scenario: Scenario, tenant: Path, what: str) -> None:
    code, _, err = _cli("apply", "--auto-approve", "--force", tenant=tenant,
                        sites=scenario.sites)
    assert code == 0, f"{what}: the apply after it failed: {err}"
    provider = SqliteTenant(tenant)
    state = provider.read_state()
    assert state.resources == scenario.final.resources, what
    assert state.managed == scenario.final.managed, what
    before = set(SqliteTenant(scenario.before).read_state().uids.values())
    assert _identities(state, before) == _identities(scenario.final, before), (
        f"{what}: a resource was deleted and made again instead of kept")
    assert state.unfinished is None and not state.parked, what
    assert provider.check_integrity() == [], what
    assert _cli("plan", "--detailed-exitcode", tenant=tenant, sites=scenario.sites)[0] == 0, what


def _shows_unfinished(scenario: Scenario, tenant: Path, done: int, what: str) -> None:
    code, out, err = _cli("plan", tenant=tenant, sites=scenario.sites)
    assert code == 0, f"{what}: {err}"
    assert ("! Unfinished: an apply of plan sha256:" in out
            and f"stopped after {done} of {scenario.steps} step(s)" in out), f"{what}:\n{out}"


@pytest.mark.parametrize("moment", ["write", "done"])
def test_sigkill_at_every_step(scenario: Scenario, moment: str) -> None:
    for step in range(1, scenario.steps + 1):
        tenant = scenario.fresh_copy(f"kill-{moment}-{step}")
        what = f"SIGKILL at step-{step}-{moment}"
        result = reconcile("apply", "--auto-approve", "--force", str(scenario.sites),
                           cwd=scenario.root, tenant=tenant, failpoint=f"step-{step}-{moment}:kill")
        assert result.returncode == -signal.SIGKILL, f"{what}: {result.stderr}"
        _shows_unfinished(scenario, tenant, step if moment == "done" else step - 1, what)
        _finishes_like_the_baseline(scenario, tenant, what)


def test_sigterm_at_every_step(scenario: Scenario) -> None:
    for step in range(1, scenario.steps + 1):
        tenant = scenario.fresh_copy(f"term-{step}")
        what = f"SIGTERM at step {step}"
        result = reconcile("apply", "--auto-approve", "--force", str(scenario.sites),
                           cwd=scenario.root, tenant=tenant, failpoint=f"step-{step}-write:term")
        assert result.returncode == 1, f"{what}: {result.stderr}"
        # The step in progress finishes (it is one transaction); the apply stops after it.
        expected = (f"error: terminated (SIGTERM) after step {step} of {scenario.steps}: {step} "
                    "step(s) were applied and stand" if step < scenario.steps else
                    f"error: terminated (SIGTERM) after the last step: all {step} step(s) were "
                    "applied and stand")
        assert result.stderr.startswith(expected), f"{what}: {result.stderr}"
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
        _finishes_like_the_baseline(scenario, tenant, what)


def test_write_error_at_every_step(scenario: Scenario) -> None:
    for step in range(1, scenario.steps + 1):
        tenant = scenario.fresh_copy(f"error-{step}")
        what = f"disk error at step {step}"
        result = reconcile("apply", "--auto-approve", "--force", str(scenario.sites),
                           cwd=scenario.root, tenant=tenant, failpoint=f"step-{step}-write:error")
        assert result.returncode == 1, f"{what}: {result.stderr}"
        assert result.stderr.startswith(f"error: step {step} of {scenario.steps} failed: ")
        assert f"disk I/O error (injected at step-{step}-write). {step - 1} earlier step(s) " \
               "were applied and stand; nothing of this step was written" in result.stderr
        _finishes_like_the_baseline(scenario, tenant, what)


@pytest.mark.parametrize("action", ["kill", "error"])
def test_a_first_apply_stopped_in_setup_leaves_no_tenant(tmp_path: Path, action: str) -> None:
    sites = tmp_path / "sites"
    _write(sites, BEFORE)
    tenant = tmp_path / "fresh" / "tenant.db"
    result = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                       failpoint=f"setup:{action}")
    assert result.returncode == (-signal.SIGKILL if action == "kill" else 1)
    assert not tenant.exists()  # only a private temporary file, if anything, is left
    code, out, _ = _cli("plan", tenant=tenant, sites=sites)
    assert code == 0 and "(does not exist yet; apply creates it)" in out
    assert _cli("apply", "--auto-approve", tenant=tenant, sites=sites)[0] == 0
    assert SqliteTenant(tenant).check_integrity() == []
    assert sorted(p.name for p in tenant.parent.iterdir()
                  if not p.name.startswith("tenant.db")) == []  # leftovers cleared


def test_a_first_apply_terminated_in_setup_finishes_the_setup_only(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    _write(sites, BEFORE)
    tenant = tmp_path / "tenant.db"
    result = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                       failpoint="setup:term")
    assert result.returncode == 1
    assert result.stderr == ("error: terminated (SIGTERM) before the first step: no step was "
                             f"applied (created tenant 'Crash Test' at sqlite:///{tenant}, with "
                             "no resources yet)\n")
    state = SqliteTenant(tenant).read_state()
    assert state.identity is not None and state.resources == {}
    assert _cli("apply", "--auto-approve", tenant=tenant, sites=sites)[0] == 0
