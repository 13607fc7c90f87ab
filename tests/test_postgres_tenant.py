"""A tenant in PostgreSQL, through the CLI and real processes: what CI jobs rely on."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from reconciler.providers import open_provider
from tests.conftest import Run
from tests.postgres_server import tenant_url
from tests.processes import reconcile, start
from tests.tenant_helpers import name_tenant, schema_version_of


def _stopped(process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the process never reached its pause point")


@pytest.fixture
def url(postgres_server: str) -> str:
    return tenant_url(postgres_server, f"t{uuid.uuid4().hex[:10]}")


def test_plan_apply_plan_against_postgresql(run: Run, example_sites: Path, url: str) -> None:
    first = run("plan", "--tenant", url)
    assert first.exit_code == 0, first.stderr
    assert "(does not exist yet; apply creates it)" in first.stdout
    applied = run("apply", "--auto-approve", "--tenant", url)
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete: 8 change(s) applied." in applied.stdout
    assert run("plan", "--detailed-exitcode", "--tenant", url).exit_code == 0
    shown = run("tenant", "show", "--tenant", url)
    assert 'tenant:   "Example Tenant"' in shown.stdout and "lock:     free" in shown.stdout
    assert run("tenant", "check", "--tenant", url).exit_code == 0


def _in_same_database(url: str, key: str) -> str:
    return url.rsplit("tenant=", 1)[0] + f"tenant={key}"


def test_a_url_that_names_no_tenant_is_an_error_with_the_fix(
        run: Run, example_sites: Path, url: str) -> None:
    """The config's `tenant:` no longer picks the tenant: a pull request edits it."""
    nameless = url.rsplit("?tenant=", 1)[0]
    for command in (("plan",), ("apply", "--auto-approve")):
        result = run(*command, "--tenant", nameless)
        assert result.exit_code == 1
        assert "names no tenant: add ?tenant=KEY to the URL where the job sets it" in \
            result.stderr
    assert "does not exist yet" in run("plan", "--tenant", url).stdout  # nothing was made


def test_a_pull_request_renaming_tenant_cannot_reach_another_customers_tenant(
        run: Run, example_sites: Path, url: str) -> None:
    """Two customers in one database; the job's URL names Acme's. A pull request that
    writes `tenant: Globex` gets no plan of Globex's tenant: it still reaches Acme's,
    whose record refuses the config."""
    name_tenant(example_sites, "Globex")
    globex = _in_same_database(url, "globex")
    assert run("apply", "--auto-approve", "--tenant", globex).exit_code == 0
    name_tenant(example_sites, "Acme")
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace('name: "0997"', 'name: "Acme only"', 1))
    acme = _in_same_database(url, "acme")
    assert run("apply", "--auto-approve", "--tenant", acme).exit_code == 0
    name_tenant(example_sites, "Globex")  # the pull request's edit
    refused = run("plan", "--tenant", acme)
    assert refused.exit_code == 1 and refused.stdout == ""
    assert 'tenant file holds "Acme", config is for "Globex"' in refused.stderr


def test_a_customers_tenant_is_never_created_twice(run: Run, example_sites: Path,
                                                    url: str) -> None:
    assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
    second = _in_same_database(url, "second")
    refused = run("apply", "--auto-approve", "--tenant", second)
    assert refused.exit_code == 1
    assert '"Example Tenant" already has a tenant in this database' in refused.stderr
    assert "does not exist yet" in run("plan", "--tenant", second).stdout  # nothing made


def test_a_rename_keeps_the_jobs_key(run: Run, example_sites: Path, url: str) -> None:
    assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
    renamed = run("tenant", "rename", "Example Tenant", "Example Ltd", "--tenant", url)
    assert renamed.exit_code == 0, renamed.output
    name_tenant(example_sites, "Example Ltd")
    assert run("plan", "--detailed-exitcode", "--tenant", url).exit_code == 0


def test_a_password_in_the_url_is_never_printed(run: Run, example_sites: Path,
                                                postgres_server: str) -> None:
    with_password = tenant_url(postgres_server.replace("postgres@", "postgres:hunter22@"),
                               f"t{uuid.uuid4().hex[:8]}")
    outputs = [run("plan", "--tenant", with_password).output,
               run("apply", "--auto-approve", "--tenant", with_password).output,
               run("tenant", "show", "--tenant", with_password).output,
               run("plan", "--tenant", with_password.replace("127.0.0.1", "nowhere.invalid")
                   ).output]
    assert all("hunter22" not in output for output in outputs)
    assert "postgres:***@" in outputs[0]


def test_two_applies_one_runs_the_other_names_it_and_a_killed_holder_frees_it(
        example_sites: Path, tmp_path: Path, url: str) -> None:
    holder = start("apply", "--auto-approve", str(example_sites), "--tenant", url,
                   cwd=tmp_path, failpoint="step-2-done:pause")
    _stopped(holder)
    second = reconcile("apply", "--auto-approve", str(example_sites), "--tenant", url,
                       cwd=tmp_path)
    assert second.returncode == 1
    assert f"is locked by `reconcile apply --auto-approve {example_sites} --tenant " \
           f"{url}` (pid {holder.pid} on " in second.stderr
    assert "The server releases the lock the moment that apply's connection ends" \
        in second.stderr
    holder.kill()  # SIGKILL: its connection drops, the server releases the lock at once
    holder.wait()
    begun = time.monotonic()
    after = reconcile("apply", "--auto-approve", str(example_sites), "--tenant", url,
                      cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert time.monotonic() - begun < 20  # never waited on a stale lock
    assert "! Unfinished: an apply of plan sha256:" in after.stdout  # the killed one's journal
    assert reconcile("plan", "--detailed-exitcode", str(example_sites), "--tenant", url,
                     cwd=tmp_path).returncode == 0


def test_lock_timeout_waits_for_the_holder(example_sites: Path, tmp_path: Path,
                                           url: str) -> None:
    holder = start("apply", "--auto-approve", str(example_sites), "--tenant", url,
                   cwd=tmp_path, failpoint="step-1-done:pause")
    _stopped(holder)
    waiter = start("apply", "--auto-approve", "--lock-timeout", "1m", str(example_sites),
                   "--tenant", url, cwd=tmp_path)
    time.sleep(1.0)
    assert waiter.poll() is None
    holder.send_signal(signal.SIGCONT)
    assert holder.wait(timeout=60) == 0
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert "No changes." in out


def test_a_killed_apply_resumes_from_its_journal(example_sites: Path, tmp_path: Path,
                                                 url: str) -> None:
    killed = reconcile("apply", "--auto-approve", str(example_sites), "--tenant", url,
                       cwd=tmp_path, failpoint="step-4-write:kill")
    assert killed.returncode == -signal.SIGKILL
    plan = reconcile("plan", str(example_sites), "--tenant", url, cwd=tmp_path)
    assert "stopped after 3 of 8 step(s)" in plan.stdout
    assert reconcile("apply", "--auto-approve", str(example_sites), "--tenant", url,
                     cwd=tmp_path).returncode == 0
    tenant = open_provider(url)
    assert len(tenant.read_state().resources) == 8 and tenant.check_integrity() == []
    tenant.close()


def test_a_newer_tool_migrates_in_one_transaction_and_an_older_one_refuses(
        run: Run, example_sites: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.providers import pg_schemas

    assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
    current = pg_schemas.SCHEMA_VERSION
    newer = current + 1
    scripts = {newer: b"ALTER TABLE users ADD COLUMN note TEXT;\nSELECT no_such_function();"}
    script_of = pg_schemas.script

    def script(version: int) -> bytes:
        return scripts.get(version) or script_of(version)

    # A newer tool, with a newer schema (whose second statement fails at first).
    monkeypatch.setattr(pg_schemas, "SCHEMA_VERSION", newer)
    monkeypatch.setattr(pg_schemas, "SCRIPTS", {**pg_schemas.SCRIPTS, newer: "newer.sql"})
    monkeypatch.setattr(pg_schemas, "script", script)
    dry = run("tenant", "migrate", "--dry-run", "--tenant", url)
    assert f"schema {current} -> {newer}, in one transaction:\nALTER TABLE users ADD COLUMN " \
        "note" in dry.stdout
    failed = run("tenant", "migrate", "--tenant", url)
    assert failed.exit_code == 1
    assert schema_version_of(url) == current  # all or nothing: the ALTER rolled back too
    scripts[newer] = b"ALTER TABLE users ADD COLUMN note TEXT;"
    migrated = run("tenant", "migrate", "--tenant", url)
    assert migrated.exit_code == 0, migrated.stderr
    assert f"migrated tenant schema {current} -> {newer}" in migrated.stdout
    assert schema_version_of(url) == newer
    assert run("plan", "--detailed-exitcode", "--tenant", url).exit_code == 0
    # The older tool refuses the newer tenant, and says what to upgrade.
    monkeypatch.undo()
    refused = run("plan", "--tenant", url)
    assert refused.exit_code == 1
    assert f"has schema version {newer}, newer than this reconciler's {current}; upgrade " \
           "ipecs-reconciler (never downgrade the tenant)" in refused.stderr


def test_tenant_copy_moves_a_tenant_between_providers_whole(
        run: Run, example_sites: Path, tmp_path: Path, url: str) -> None:
    from reconciler.providers.password_hashing import password_matches

    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace(
        'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_0997}'))
    env = {"RECONCILER_PW_0997": "first-Secret1"}
    local = f"sqlite:///{tmp_path / 'local.db'}"
    assert run("apply", "--auto-approve", "--tenant", local, env=env).exit_code == 0
    copied = run("tenant", "copy", local, url)
    assert copied.exit_code == 0, copied.stderr
    assert "copied 8 resources" in copied.stdout and "reads back as the original" in copied.stdout
    assert run("plan", "--detailed-exitcode", "--tenant", url).exit_code == 0
    assert run("tenant", "check", "--tenant", url).exit_code == 0  # seats, licences counted
    back = f"sqlite:///{tmp_path / 'back.db'}"
    assert run("tenant", "copy", url, back).exit_code == 0
    assert run("plan", "--detailed-exitcode", "--tenant", back).exit_code == 0
    original, moved = open_provider(local), open_provider(back)
    assert moved.read_state().uids == original.read_state().uids
    stored = moved._connection().execute(  # type: ignore[attr-defined]
        "SELECT password_hash FROM users WHERE extension = '0997'").fetchone()[0]
    assert password_matches("first-Secret1", stored)
    original.close()
    moved.close()
    refused = run("tenant", "copy", local, url)
    assert refused.exit_code == 1
    assert "already holds a tenant; copy only into a place that holds none" in refused.stderr


def test_import_from_postgresql_round_trips(run: Run, example_sites: Path, tmp_path: Path,
                                            url: str) -> None:
    assert run("apply", "--auto-approve", str(example_sites), "--tenant", url).exit_code == 0
    imported = run("import", "--tenant", url, "--out", "imported")
    assert imported.exit_code == 0, imported.output
    assert "validates and plans no changes" in imported.stdout
    assert run("plan", "--detailed-exitcode", "imported", "--tenant", url).exit_code == 0


def test_a_tenant_made_before_owners_were_recorded_still_blocks_a_second(
        run: Run, example_sites: Path, url: str) -> None:
    """A catalogue from before the owner column holds no owners: they are read from
    each tenant's own identity before a new tenant is made."""
    import psycopg

    assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
    with psycopg.connect(url.split("?")[0], autocommit=True) as admin:
        admin.execute("UPDATE reconciler.tenants SET owner = NULL")
    refused = run("apply", "--auto-approve", "--tenant", _in_same_database(url, "second"))
    assert refused.exit_code == 1
    assert '"Example Tenant" already has a tenant in this database' in refused.stderr
