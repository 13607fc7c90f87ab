"""What apply guarantees at the edges: the right tenant, a whole first apply, a swap that
finishes, honest stops, a lock nobody can talk around, the tenant chosen is the one used.

Signals, kills and second processes are real: `reconcile` runs as a process of its own.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from reconciler.providers import SqliteTenant
from reconciler.providers.sqlite_storage import SCHEMA_VERSION
from schema.kinds import can_be_member
from tests.conftest import Run, WriteTree
from tests.processes import RECONCILE, environment, reconcile, start
from tests.tenant_helpers import copy_tenant

DB = Path(".reconciler/tenant.db")
USERS = """\
users:
  - {extension: "101", name: A, package: Basic, devices: ["1030"]}
  - {extension: "102", name: B, package: Premium, devices: ["1030"]}
  - {extension: "103", name: C, package: Basic, devices: ["1030"]}
shared_lines:
  - number: "300"
    members: [{extension: "101", button: 1}, {extension: "102", button: 2}]
"""


def _count_users(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return int(connection.execute("SELECT count(*) FROM users").fetchone()[0])


def _wait_until_stopped(process: subprocess.Popen[str]) -> None:
    """Until the process has stopped itself (SIGSTOP, at a `pause` failpoint)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the process never reached its pause point")


# --- 1. The tenant knows whose it is ------------------------------------------------
def test_a_config_for_another_tenant_is_refused_before_planning(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    assert run("apply", "--auto-approve").exit_code == 0
    tenant_yaml = sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text().replace("Test Tenant", "Bobs Bakery"))
    (sites / "Main" / "u.yaml").write_text("users: []\n")  # would delete everything
    for command in (["plan"], ["apply", "--auto-approve", "--force"],
                    ["local-tenant", "set-facts"]):
        result = run(*command)
        assert result.exit_code == 1, command
        assert ('error: sites/tenant.yaml:1:9: tenant file holds "Test Tenant", config is for '
                '"Bobs Bakery"') in result.stderr, command
        assert "nothing was planned" in result.stderr
    assert _count_users(tmp_path / DB) == 3


def test_renaming_a_tenant_is_explicit_and_needs_the_old_name(
        run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    tenant_yaml = sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text().replace("Test Tenant", "Bobs Bakery"))
    wrong = run("tenant", "rename", "Acme", "Bobs Bakery")
    assert wrong.exit_code == 1
    assert 'holds "Test Tenant", not "Acme"; nothing was renamed' in wrong.stderr
    assert run("plan").exit_code == 1
    renamed = run("tenant", "rename", "Test Tenant", "Bobs Bakery")
    assert renamed.exit_code == 0, renamed.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0
    assert 'tenant:   "Bobs Bakery"' in run("tenant", "show").stdout


# --- 2. The first apply is atomic ---------------------------------------------------
@pytest.mark.parametrize("content", ["empty", "sqlite without tables"])
def test_a_file_holding_no_tenant_is_set_up_by_the_next_apply(
        run: Run, write_tree: WriteTree, tmp_path: Path, content: str) -> None:
    write_tree({"Main/u.yaml": USERS})
    db = tmp_path / DB
    db.parent.mkdir()
    if content == "empty":
        db.touch()
    else:  # an SQLite file with a header and nothing in it
        with contextlib.closing(sqlite3.connect(db)) as connection:
            connection.execute("PRAGMA journal_mode = WAL")
        assert db.stat().st_size > 0
    plan = run("plan")
    assert plan.exit_code == 0, plan.stderr
    assert "(does not exist yet; apply creates it)" in plan.stdout
    result = run("apply", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert "no such table" not in result.output
    assert _count_users(db) == 3


def test_another_database_is_never_touched(run: Run, write_tree: WriteTree,
                                           tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    other = tmp_path / "app.db"
    with contextlib.closing(sqlite3.connect(other)) as connection, connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    before = other.read_bytes()
    result = run("apply", "--auto-approve", "--tenant", f"sqlite:///{other}")
    assert result.exit_code == 1
    assert "is an SQLite file but not a tenant; refusing to touch it" in result.stderr
    assert other.read_bytes() == before


# --- 3. An interrupted apply finishes what it started -------------------------------
def test_an_interrupted_swap_finishes_as_renumbers(write_tree: WriteTree,
                                                   tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    tenant = tmp_path / "tenant.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    uids_before = SqliteTenant(tenant).read_state().uids
    # A and B swap numbers; each keeps its own package (B's is the higher one).
    (sites / "Main" / "u.yaml").write_text(
        USERS.replace('"101", name: A', '"102", previous_extension: "101", name: A')
        .replace('"102", name: B', '"101", previous_extension: "102", name: B')
        .replace('[{extension: "101", button: 1}, {extension: "102", button: 2}]',
                 '[{extension: "102", button: 1}, {extension: "101", button: 2}]'))
    killed = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                       failpoint="step-1-done:kill")  # A parked on 99999, then killed
    assert killed.returncode == -signal.SIGKILL
    plan = reconcile("plan", str(sites), cwd=tmp_path, tenant=tenant)
    assert plan.returncode == 0, plan.stderr  # no false package downgrade
    assert "! Unfinished: an apply of plan sha256:" in plan.stdout
    assert "stopped after 1 of 3 step(s)" in plan.stdout
    steps = [line.strip() for line in plan.stdout.splitlines() if line.startswith("  ~ ")]
    assert steps == ["~ renumber user 102 to 101  # sites/Main/u.yaml:3",
                     "~ renumber user 99999 to 102  # sites/Main/u.yaml:2"]
    assert "create" not in plan.stdout.split("Plan:")[0]
    assert "delete" not in plan.stdout.split("Plan:")[0]
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    state = SqliteTenant(tenant).read_state()
    assert {key.number: uid for key, uid in state.uids.items() if can_be_member(key.kind)} == {
        "102": uids_before[next(k for k in uids_before if k.number == "101")],
        "101": uids_before[next(k for k in uids_before if k.number == "102")],
        "103": uids_before[next(k for k in uids_before if k.number == "103")]}
    assert state.unfinished is None and state.parked == {}
    assert reconcile("plan", "--detailed-exitcode", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0


def test_a_renumber_already_done_stays_done_when_its_old_number_is_taken_again(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    renumbered = USERS.replace('"103", name: C', '"153", previous_extension: "103", name: C')
    (sites / "Main" / "u.yaml").write_text(renumbered)
    assert run("apply", "--auto-approve").exit_code == 0
    # Someone makes a new 103 by hand; previous_extension: "103" stays in the YAML.
    with contextlib.closing(sqlite3.connect(tmp_path / DB)) as connection, connection:
        connection.execute("INSERT INTO users (extension, site, kind, name, package, devices) "
                           "VALUES ('103', 'Main', 'user', 'Hand', 'Basic', '[\"1030\"]')")
    plan = run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output  # nothing to do: 153 came from 103 already
    assert "Main: user 103" in plan.stdout  # the new 103 is left alone


# --- 5. Honest stops ------------------------------------------------------------------
def test_ctrl_c_stops_after_the_step_in_progress(write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    result = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                       tenant=tmp_path / "t.db", failpoint="step-2-write:interrupt")
    assert result.returncode == 1
    assert result.stderr == ("error: interrupted (Ctrl-C) after step 2 of 4: 2 step(s) were "
                             "applied and stand; 2 were not started. Run apply again to "
                             "continue: the next plan starts where this stopped\n")
    assert _count_users(tmp_path / "t.db") == 2


def test_sigterm_at_the_prompt_says_nothing_was_changed(write_tree: WriteTree,
                                                        tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    process = subprocess.Popen([RECONCILE, "apply", str(sites)], cwd=tmp_path, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment(tmp_path / "t.db"))
    assert process.stdout is not None
    seen = ""
    while "Only 'yes' will be accepted" not in seen:
        seen += process.stdout.read(1)
        assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == 1
    assert stderr.strip().splitlines()[-1] == "terminated (SIGTERM); nothing was changed."
    assert not (tmp_path / "t.db").exists()


def test_a_closed_stdout_stops_the_apply_with_the_count(write_tree: WriteTree,
                                                        tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    process = start("apply", "--auto-approve", str(sites), cwd=tmp_path,
                    tenant=tmp_path / "t.db", failpoint="step-2-done:pause")
    _wait_until_stopped(process)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `apply | head`: the reader went away
    process.send_signal(signal.SIGCONT)
    stderr = process.stderr.read()
    assert process.wait(timeout=20) == 1
    assert stderr == ("error: stdout was closed after step 2 of 4: 2 step(s) were applied and "
                      "stand; 2 were not started. Run apply again to continue: the next plan "
                      "starts where this stopped\n")
    assert _count_users(tmp_path / "t.db") == 2


def test_a_stdout_closed_before_any_write_changes_nothing(write_tree: WriteTree,
                                                          tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    process = start("apply", "--auto-approve", str(sites), cwd=tmp_path,
                    tenant=tmp_path / "t.db")
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=20) == 1
    assert stderr == ("error: stdout was closed before the output was complete; nothing was "
                      "changed.\n")
    assert not (tmp_path / "t.db").exists()


# --- 6. A lock that cannot be talked around ----------------------------------------
def test_a_second_apply_names_the_holder_and_a_dead_holder_never_blocks(
        write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    tenant = tmp_path / "t.db"
    holder = start("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                   failpoint="step-1-done:pause", GITHUB_SERVER_URL="https://github.com",
                   GITHUB_REPOSITORY="acme/phones", GITHUB_RUN_ID="42")
    _wait_until_stopped(holder)
    second = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant)
    assert second.returncode == 1
    message = second.stderr
    assert f"is locked by `reconcile apply --auto-approve {sites}` (pid {holder.pid} on " \
        in message
    assert "CI job https://github.com/acme/phones/actions/runs/42) since 20" in message
    assert "--lock-timeout" in message
    assert "remove" not in message and "delete" not in message
    holder.kill()  # SIGKILL: no cleanup runs
    holder.wait()
    after = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant)
    assert after.returncode == 0, after.stderr
    assert SqliteTenant(tenant).check_integrity() == []
    assert reconcile("plan", "--detailed-exitcode", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0


def test_lock_timeout_waits_for_the_holder(write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    tenant = tmp_path / "t.db"
    holder = start("apply", "--auto-approve", str(sites), cwd=tmp_path, tenant=tenant,
                   failpoint="step-1-done:pause")
    _wait_until_stopped(holder)
    waiter = start("apply", "--auto-approve", "--lock-timeout", "1m", str(sites),
                   cwd=tmp_path, tenant=tenant)
    time.sleep(1.0)
    assert waiter.poll() is None  # still waiting
    holder.send_signal(signal.SIGCONT)
    assert holder.wait(timeout=30) == 0
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert "No changes." in out


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(
        write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / "t.db.lock").symlink_to(victim)
    result = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                       tenant=tmp_path / "t.db")
    assert result.returncode == 1
    assert "lock file" in result.stderr and "is a symbolic link" in result.stderr
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "t.db").exists()


def test_a_symlinked_tenant_path_is_refused(write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": USERS})
    real = tmp_path / "real.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=real).returncode == 0
    (tmp_path / "alias.db").symlink_to(real)
    result = reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                       tenant=tmp_path / "alias.db")
    assert result.returncode == 1
    assert "is a symbolic link (to " in result.stderr
    assert "point --tenant at the file itself" in result.stderr


def test_tenant_and_lock_are_readable_by_the_owner_only(run: Run, write_tree: WriteTree,
                                                         tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    assert run("apply", "--auto-approve").exit_code == 0
    for path in (tmp_path / DB, tmp_path / ".reconciler" / "tenant.db.lock"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / ".reconciler").stat().st_mode) == 0o700


# --- 8. The tenant chosen is the tenant used ----------------------------------------
@pytest.mark.parametrize("how", ["variable", "option"])
def test_an_empty_tenant_url_is_an_error(run: Run, write_tree: WriteTree, tmp_path: Path,
                                         how: str) -> None:
    write_tree({"Main/u.yaml": USERS})
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = (run(*command, env={"RECONCILER_TENANT": ""}) if how == "variable"
                  else run(*command, "--tenant", ""))
        assert result.exit_code == 1
        assert "the tenant URL is empty" in result.stderr
    assert not (tmp_path / ".reconciler").exists()


def test_a_tenant_on_a_read_only_file_system_can_be_planned(write_tree: WriteTree,
                                                            tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a read-only file system")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine forbids user namespaces: {probe.stderr!r}")
    sites = write_tree({"Main/u.yaml": USERS})
    folder = tmp_path / "ro"
    folder.mkdir()
    tenant = folder / "tenant.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    (sites / "Main" / "u.yaml").write_text(USERS.replace("name: C", "name: Cee"))
    script = (f"mount --bind -o ro {folder} {folder} && touch {folder}/probe 2>/dev/null; "
              f"echo writable=$?; exec {RECONCILE} plan {sites} "
              f"--tenant sqlite:///{tenant}")
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                             script], capture_output=True, text=True, cwd=tmp_path,
                            env=environment(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "writable=1" in result.stdout  # the folder really was read-only
    assert 'name: "C" -> "Cee"' in result.stdout


def test_a_plan_reads_one_snapshot(write_tree: WriteTree, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.providers import tenant_tables

    sites = write_tree({"Main/u.yaml": USERS})
    tenant = tmp_path / "t.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    read_facts = tenant_tables.read_facts

    def facts_then_a_concurrent_write(connection: sqlite3.Connection) -> object:
        facts = read_facts(connection)
        with contextlib.closing(sqlite3.connect(tenant)) as other, other:  # another process
            other.execute("INSERT INTO users (extension, site, kind, name, package, devices) "
                          "VALUES ('109', 'Main', 'user', 'Late', 'Basic', '[\"1030\"]')")
        return facts

    monkeypatch.setattr(tenant_tables, "read_facts", facts_then_a_concurrent_write)
    state = SqliteTenant(tenant).read_state()
    assert sorted(key.number for key in state.resources) == ["101", "102", "103", "300"]
    monkeypatch.undo()
    assert "109" in {key.number for key in SqliteTenant(tenant).read_state().resources}


# An older tenant after an upgrade: tests/test_older_tenants.py, on real files.


def test_a_newer_tenant_asks_to_upgrade_the_tool(run: Run, write_tree: WriteTree,
                                                 tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    copy_tenant(tmp_path / DB, tmp_path / "newer.db")
    with contextlib.closing(sqlite3.connect(tmp_path / "newer.db")) as connection:
        connection.execute("PRAGMA user_version = 99")
    result = run("plan", "--tenant", f"sqlite:///{tmp_path / 'newer.db'}")
    assert result.exit_code == 1
    assert f"newer than this reconciler's {SCHEMA_VERSION}; upgrade ipecs-reconciler (never " \
        "downgrade the tenant)" in result.stderr
