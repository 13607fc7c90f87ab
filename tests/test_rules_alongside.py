"""The cross-object rules checked in a forked child while a plan reads the tenant
(`reconciler/rules_alongside.py`): users see exactly what they saw when the rules ran
first, and a child that fails never lets a plan skip them.

Every test runs `reconcile` as a process of its own, as users do: forking the test
runner (which may run threads) would quietly take the inline path instead.
RECONCILER_PARALLEL=on forks at any size; `off` checks inline."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.processes import reconcile, start, stopped_child

DUPLICATE = """
users:
  - extension: "0997"
    name: Second claim
    package: Empty User Pack
    devices: ["1030"]
"""


@pytest.fixture
def broken_sites(example_sites: Path) -> Path:
    """The example with a rule problem across files: 0997 declared in a second site."""
    (example_sites / "Branch").mkdir()
    (example_sites / "Branch" / "users.yaml").write_text(DUPLICATE)
    return example_sites


def _plan(sites: Path, mode: str, *args: str, tenant: Path | None = None,
          **extra: str) -> tuple[int, str, str]:
    done = reconcile("plan", str(sites), *args, cwd=sites.parent,
                     tenant=tenant or sites.parent / "tenant.db",
                     RECONCILER_PARALLEL=mode, **extra)
    return done.returncode, done.stdout, done.stderr


def test_a_plan_reads_the_same_with_the_rules_alongside(example_sites: Path) -> None:
    inline = _plan(example_sites, "off")
    assert inline[0] == 0 and "to create" in inline[1]
    assert _plan(example_sites, "on") == inline


def test_rule_problems_are_reported_as_when_checked_first(broken_sites: Path) -> None:
    inline = _plan(broken_sites, "off")
    assert inline[0] == 1 and "number 0997 is already used" in inline[2]
    assert _plan(broken_sites, "on") == inline


def test_rule_problems_come_before_the_tenant_being_the_wrong_one(
        broken_sites: Path, tmp_path: Path) -> None:
    # A tenant of another name: planning stops at the mismatch, after the tenant is
    # read, which is while the child still checks (or has checked) the rules.
    other = tmp_path / "other"
    shutil.copytree(broken_sites, other / "sites")
    shutil.rmtree(other / "sites" / "Branch")
    tenant_file = other / "sites" / "tenant.yaml"
    tenant_file.write_text(tenant_file.read_text().replace("Example Tenant", "Someone Else"))
    tenant = tmp_path / "someone-else.db"
    made = reconcile("apply", str(other / "sites"), "--auto-approve", cwd=other,
                     tenant=tenant)
    assert made.returncode == 0, made.stderr
    inline = _plan(broken_sites, "off", tenant=tenant)
    alongside = _plan(broken_sites, "on", tenant=tenant)
    assert alongside == inline
    assert "0997" in alongside[2] and "tenant file holds" not in alongside[2]


@pytest.mark.parametrize("failure", ["kill", "error"])
def test_a_child_that_fails_never_lets_the_rules_be_skipped(broken_sites: Path,
                                                            failure: str) -> None:
    inline = _plan(broken_sites, "off")
    failed = _plan(broken_sites, "on", RECONCILER_FAILPOINT=f"rules-child:{failure}")
    assert failed == inline  # the parent checked them itself


def test_problems_in_sites_left_out_are_set_aside_alike(example_sites: Path) -> None:
    (example_sites / "Branch").mkdir()
    (example_sites / "Branch" / "users.yaml").write_text(
        DUPLICATE + DUPLICATE.replace("users:", "").replace("0997", "0950").replace(
            "Second claim", "Third") + DUPLICATE.replace("users:", "").replace("0997", "0950"))
    for args in (("--exclude-site", "Branch"), ("--site", "Branch"), ("--site", "Main")):
        assert _plan(example_sites, "on", *args) == _plan(example_sites, "off", *args)
    assert _plan(example_sites, "on", "--exclude-site", "Branch")[0] == 1  # 0997 is in Main
    (example_sites / "Main" / "users.yaml").unlink()  # now every problem is in Branch
    for args, code in ((("--exclude-site", "Branch"), 0), (("--site", "Branch"), 1)):
        alongside = _plan(example_sites, "on", *args)
        assert alongside == _plan(example_sites, "off", *args) and alongside[0] == code


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_the_plan_waits_for_the_childs_answer(example_sites: Path) -> None:
    process = start("plan", str(example_sites), cwd=example_sites.parent,
                    tenant=example_sites.parent / "tenant.db",
                    RECONCILER_PARALLEL="on", RECONCILER_FAILPOINT="rules-child:pause")
    try:
        child = stopped_child(process.pid)
        assert child is not None, "no child checked the rules"
        time.sleep(1.0)
        assert process.poll() is None  # no plan shown without the rules' answer
        os.kill(child, signal.SIGCONT)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0 and "to create" in out


def test_small_configs_check_inline(example_sites: Path) -> None:
    # The example is far below the size worth a fork: a paused child would hang it.
    done = reconcile("plan", str(example_sites), cwd=example_sites.parent,
                     tenant=example_sites.parent / "tenant.db",
                     RECONCILER_FAILPOINT="rules-child:pause", timeout=60)
    assert done.returncode == 0 and "to create" in done.stdout
