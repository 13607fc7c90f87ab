"""Buying seats and licences: a pull request that raises them in tenant.yaml plans green,
the plan shows what was bought, and the apply after merge records it before the steps
that need it. Nobody runs a command against the tenant from an unmerged branch."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import TENANT_YAML, Run, WriteTree
from tests.postgres_server import tenant_url
from tests.processes import reconcile

ONE_SEAT = TENANT_YAML.replace("Basic: 10", "Basic: 1").replace(
    "shared_licensing: true", "shared_licensing: false")
BOUGHT = (ONE_SEAT.replace("Basic: 1", "Basic: 3").replace("shared_lines: 5", "shared_lines: 7")
          .replace("shared_licensing: false", "shared_licensing: true")
          .replace("  Premium: 10\n", "  Premium: 10\n  Gold: 2\n"))
FIRST = 'users:\n  - {extension: "1001", name: A, package: Basic, devices: ["1030"]}\n'
MORE = FIRST + "".join(f'  - {{extension: "100{n}", name: U{n}, package: Basic, '
                       'devices: ["1030"]}\n' for n in (2, 3))


def _bought_lines(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = lines.index("Bought, per tenant.yaml (the apply records it before its first step):")
    return lines[start + 1:lines.index("", start)]


def _a_pull_request_buys_seats_and_is_applied(run: Run, write_tree: WriteTree,
                                              tenant: str) -> None:
    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    assert run("apply", "--auto-approve", "--tenant", tenant).exit_code == 0
    # the pull request: more seats bought, two users on them, a package, licences
    write_tree({"Main/u.yaml": MORE}, tenant=BOUGHT)
    planned = run("plan", "--detailed-exitcode", "--tenant", tenant)
    assert planned.exit_code == 2, planned.stderr
    assert _bought_lines(planned.stdout) == [
        "  + licences.shared_lines: 5 -> 7", "  + licences.shared_licensing: false -> true",
        "  + packages.Basic: 1 -> 3", "  + packages.Gold: not listed -> 2"]
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete." in planned.stdout
    applied = run("apply", "--auto-approve", "--tenant", tenant)
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.rstrip().endswith(
        "Apply complete: 2 change(s) applied. Recorded as bought: licences.shared_lines, "
        "licences.shared_licensing, packages.Basic, packages.Gold.")
    again = run("plan", "--detailed-exitcode", "--tenant", tenant)
    assert again.exit_code == 0, again.stdout + again.stderr


def test_seats_bought_in_a_pull_request_are_recorded_by_the_apply(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    _a_pull_request_buys_seats_and_is_applied(run, write_tree, f"sqlite:///{tmp_path / 't.db'}")


def test_the_same_against_a_shared_postgresql_tenant_with_the_job_roles(
        run: Run, write_tree: WriteTree, postgres_server: str) -> None:
    """The plan job's read-only role plans the purchase green; the apply job's writer
    records it. No role but the owner's ran anything else."""
    suffix = uuid.uuid4().hex[:8]
    owner = tenant_url(postgres_server, f"buy{suffix}")
    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    assert run("apply", "--auto-approve", "--tenant", owner).exit_code == 0
    reader, writer = f"plan_{suffix}", f"apply_{suffix}"
    with psycopg.connect(owner.split("?")[0], autocommit=True) as admin:
        for role in (reader, writer):
            admin.execute(f'CREATE ROLE "{role}" LOGIN')
    assert run("tenant", "grant", "--reader", reader, "--writer", writer,
               "--tenant", owner).exit_code == 0
    as_role = {role: re.sub(r"//[^@/]*@", f"//{role}@", owner, count=1)
               for role in (reader, writer)}
    write_tree({"Main/u.yaml": MORE}, tenant=BOUGHT)
    planned = run("plan", "--detailed-exitcode", "--tenant", as_role[reader])
    assert planned.exit_code == 2, planned.stderr
    assert "  + packages.Basic: 1 -> 3" in _bought_lines(planned.stdout)
    applied = run("apply", "--auto-approve", "--tenant", as_role[writer])
    assert applied.exit_code == 0, applied.stderr
    assert "Recorded as bought:" in applied.stdout
    assert run("plan", "--detailed-exitcode", "--tenant", as_role[reader]).exit_code == 0


def test_a_purchase_alone_is_a_change_to_apply(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({}, tenant=ONE_SEAT.replace("Basic: 1", "Basic: 4"))
    planned = run("plan", "--detailed-exitcode", "--format", "markdown")
    assert planned.exit_code == 2
    assert "- `packages.Basic: 1 -> 4`" in planned.stdout
    assert "No changes" not in planned.stdout
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete: 0 change(s) applied. Recorded as bought: packages.Basic." \
        in applied.stdout
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_whose_purchase_was_recorded_since_is_stale(
        run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({"Main/u.yaml": MORE}, tenant=ONE_SEAT.replace("Basic: 1", "Basic: 3"))
    assert run("plan", "--out", "plan.json").exit_code == 0
    saved = json.loads(Path("plan.json").read_text())
    assert saved["purchase"]["changes"] == [{"fact": "packages.Basic", "old": 1, "new": 3}]
    assert saved["purchase"]["after"]["packages"] == {"Basic": 3, "Premium": 10}
    assert run("local-tenant", "set-facts").exit_code == 0  # someone recorded it by hand
    stale = run("apply", "--plan", "plan.json", "--auto-approve")
    assert stale.exit_code == 1
    assert "the plan is stale, refusing to apply" in stale.stderr
    assert "record packages.Basic: 1 -> 3" in stale.stderr


def test_fewer_seats_are_not_a_purchase(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT.replace("Basic: 1", "Basic: 2"))
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({}, tenant=ONE_SEAT.replace("Basic: 1", "Basic: 1\n  Gold: 2"))
    refused = run("plan")
    assert refused.exit_code == 1
    assert "tenant.yaml says packages.Basic is 1 but the tenant reports 2" in refused.stderr
    assert "packages.Gold" not in refused.stderr  # bought: not a problem of its own


@pytest.mark.slow
def test_killed_after_recording_the_purchase_the_next_apply_goes_on(
        write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    tenant = tmp_path / "t.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    write_tree({"Main/u.yaml": MORE}, tenant=BOUGHT)
    killed = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                       failpoint="purchase-done:kill")
    assert killed.returncode == -9
    after = reconcile("plan", str(sites), cwd=tmp_path, tenant=tenant)
    assert after.returncode == 0, after.stderr
    assert "Bought" not in after.stdout  # recorded, in one transaction
    assert "Plan: 2 to create" in after.stdout
    finished = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant)
    assert finished.returncode == 0, finished.stderr
    assert reconcile("plan", "--detailed-exitcode", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0


def test_a_hostile_package_name_stays_code_in_the_comment(run: Run,
                                                         write_tree: WriteTree) -> None:
    """A package name comes from the pull request: in the markdown plan it is code, and
    mentions, links or HTML in it do nothing."""
    from tests.test_hostile_names import _unsafe_outside_code

    write_tree({"Main/u.yaml": FIRST}, tenant=ONE_SEAT)
    assert run("apply", "--auto-approve").exit_code == 0
    hostile = "@acme/admins <img src=x> https://evil.example | `x`"
    write_tree({}, tenant=ONE_SEAT.replace("  Premium: 10\n",
                                           f"  Premium: 10\n  '{hostile}': 1\n"))
    planned = run("plan", "--format", "markdown")
    assert planned.exit_code == 0, planned.stderr
    assert _unsafe_outside_code(planned.stdout) == []
    assert "https://evil.example" in planned.stdout
