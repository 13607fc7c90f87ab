"""Schema 5 (issue 22, point 4): every number in one table, every member in one table,
on both engines. A number belongs to exactly one resource of any kind, held by one
constraint (the primary key of `numbers`), not by a trigger per pair of kinds; tenants
written by earlier versions are read as they are and migrated whole."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reconciler.providers import SqliteTenant, open_provider, pg_schemas, tenant_writes
from reconciler.providers.sqlite_storage import SCHEMA_VERSION
from reconciler.providers.tenant_tables import Database
from reconciler.runtime.errors import TenantError
from schema.state import Kind, ResourceKey
from tests.conftest import Run
from tests.postgres_server import tenant_url
from tests.tenant_helpers import as_role, schema_version_of

FIXTURES = Path(__file__).parent / "fixtures" / "tenants"
USER = {"name": "Ann", "package": "Basic", "devices": ["1030"]}


def _numbers(path: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return sorted(db.execute("SELECT number, held_by FROM numbers"))


def _resources(path: Path) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return sorted(db.execute("SELECT extension, 'users' FROM users UNION ALL "
                                 "SELECT number, 'shared_lines' FROM shared_lines"))


def test_the_last_schema_4_tenant_is_read_as_it_is_then_migrated_whole(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    """schema4_last.db was written by the last commit with schema 4."""
    path = tmp_path / "tenant.db"
    shutil.copyfile(FIXTURES / "schema4_last.db", path)
    url = f"sqlite:///{path}"
    before = path.read_bytes()
    assert run("plan", "--tenant", url, "--detailed-exitcode").exit_code == 0
    assert path.read_bytes() == before  # a plan never migrates
    dry = run("tenant", "migrate", "--tenant", url, "--dry-run")
    assert f"schema 4 -> {SCHEMA_VERSION}" in dry.stdout
    assert "CREATE TABLE numbers" in dry.stdout and "DROP TABLE shared_line_members" in dry.stdout
    assert "ADD COLUMN password_from" not in dry.stdout  # it had schema 4's later column
    migrated = run("tenant", "migrate", "--tenant", url)
    assert f"migrated tenant schema 4 -> {SCHEMA_VERSION}" in migrated.stdout, migrated.output
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    assert _numbers(path) == _resources(path) and len(_numbers(path)) == 8
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT line, line_held_by, extension FROM members").fetchall() == [
            ("555", "shared_lines", "0901")]
    assert run("plan", "--tenant", url, "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("fixture", ["schema3.db", "schema4.db"])
def test_earlier_tenants_end_in_the_same_shape_as_a_new_one(
        run: Run, example_sites: Path, tmp_path: Path, fixture: str) -> None:
    old = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, old)
    claimed = run("tenant", "claim", "Example Tenant", "--tenant", f"sqlite:///{old}")
    assert claimed.exit_code in (0, 1), claimed.output  # schema 4 records its owner
    assert run("tenant", "migrate", "--tenant", f"sqlite:///{old}").exit_code == 0
    new = tmp_path / "new.db"
    assert run("apply", "--auto-approve", "--tenant", f"sqlite:///{new}").exit_code == 0

    def shape(path: Path) -> list[tuple[str, str]]:
        with contextlib.closing(sqlite3.connect(path)) as db:
            return sorted(db.execute(
                "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))

    assert shape(old) == shape(new)
    assert _numbers(old) == _numbers(new)
    assert run("tenant", "check", "--tenant", f"sqlite:///{old}").exit_code == 0


def test_a_number_is_held_once_by_one_constraint_not_by_triggers(tmp_path: Path) -> None:
    """Without the triggers on `numbers` (the portal's words, the prefix rule), its
    primary key still refuses a number held by another kind, in both directions and on
    renumbers."""
    tenant = SqliteTenant(tmp_path / "tenant.db")
    _new_tenant(tenant)
    tenant.create(ResourceKey("Main", Kind.USER, "1001"), USER, None)
    tenant.create(ResourceKey("Main", Kind.SHARED_LINE, "3001"), {}, None)
    with contextlib.closing(sqlite3.connect(tenant.path)) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                  "tbl_name = 'numbers'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.commit()
    for write in (lambda: tenant.create(ResourceKey("Main", Kind.SHARED_LINE, "1001"), {},
                                        None),
                  lambda: tenant.create(ResourceKey("Main", Kind.HOT_DESK_USER, "3001"),
                                        {"name": "Desk", "package": "Basic"}, None),
                  lambda: tenant.renumber(ResourceKey("Main", Kind.SHARED_LINE, "3001"),
                                          "1001")):
        with pytest.raises(TenantError, match="the number is already used by another "
                                              "resource"):
            write()
    assert tenant.check_integrity() == []


def test_a_member_row_names_its_line_and_goes_with_it(tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "tenant.db")
    _new_tenant(tenant)
    line = ResourceKey("Main", Kind.SHARED_LINE, "3001")
    tenant.create(ResourceKey("Main", Kind.USER, "1001"), USER, None)
    tenant.create(line, {"members": {"1001": {"button": 1, "ring_delay": 0}}}, None)
    with contextlib.closing(sqlite3.connect(tenant.path)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        for held_by in ("users", "shared_lines"):  # a user is no line; 1001 is no line's
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                db.execute("INSERT INTO members (line, line_held_by, extension) "
                           "VALUES ('1001', ?, '1001')", (held_by,))
    tenant.renumber(line, "3002")
    moved = ResourceKey("Main", Kind.SHARED_LINE, "3002")
    assert tenant.read_state().resources[moved]["members"] == {
        "1001": {"button": 1, "ring_delay": 0}}
    tenant.delete(moved)
    with contextlib.closing(sqlite3.connect(tenant.path)) as db:
        assert db.execute("SELECT count(*) FROM members").fetchone() == (0,)
        assert db.execute("SELECT number FROM numbers").fetchall() == [("1001",)]
    assert tenant.check_integrity() == []


def test_tenant_check_finds_a_numbering_plan_out_of_step(tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "tenant.db")
    _new_tenant(tenant)
    tenant.create(ResourceKey("Main", Kind.USER, "1001"), USER, None)
    with contextlib.closing(sqlite3.connect(tenant.path)) as db:
        db.execute("DROP TRIGGER users_number_out")
        db.execute("DELETE FROM users WHERE extension = '1001'")
        db.execute("INSERT INTO users (extension, site, kind, name, package, devices) "
                   "VALUES ('1002', 'Main', 'user', 'Bo', 'Basic', '[\"1030\"]')")
        db.execute("DELETE FROM numbers WHERE number = '1002'")
        db.commit()
    problems = tenant.check_integrity()
    assert "number 1001 is recorded as held by users, which does not hold it" in problems
    assert "number 1002 is held but not recorded in the numbering plan" in problems


def _new_tenant(tenant: SqliteTenant) -> None:
    from schema.state import TenantFacts

    tenant.initialise(TenantFacts("6.0", 10, True, {"Basic": 10}), "Example Tenant")


def _schema_4_set_members(db: Database, key: ResourceKey,
                          members: dict[str, dict[str, Any]]) -> None:
    """How schema 4's tool wrote a line's members (tenant_writes at f17f6d1, verbatim
    but for the key): one table for shared lines' members."""
    number = key.number
    db.execute("DELETE FROM shared_line_members WHERE shared_line = ?", (number,))
    db.executemany(
        "INSERT INTO shared_line_members (shared_line, extension, button, ring_delay) "
        "VALUES (?, ?, ?, ?)",
        [(number, extension, member["button"], member["ring_delay"])
         for extension, member in members.items()])


def test_a_postgresql_tenant_of_schema_4_is_read_then_migrated_keeping_its_grants(
        run: Run, example_sites: Path, postgres_server: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Made by schema 4's own script; planned as it is by this tool (read, never
    migrated by a plan); migrated in one transaction; the roles granted it before
    still plan and apply."""
    url = tenant_url(postgres_server, f"old{uuid.uuid4().hex[:8]}")
    with monkeypatch.context() as older:
        older.setattr(pg_schemas, "SCRIPTS", {4: "pg_schema_4.sql"})
        older.setattr(pg_schemas, "SCHEMA_VERSION", 4)
        older.setattr(tenant_writes, "_set_members", _schema_4_set_members)
        assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
        suffix = uuid.uuid4().hex[:8]
        reader, writer = f"plan_{suffix}", f"apply_{suffix}"
        with psycopg.connect(url.split("?")[0], autocommit=True) as admin:
            for role in (reader, writer):
                admin.execute(f'CREATE ROLE "{role}" LOGIN')
        assert run("tenant", "grant", "--reader", reader, "--writer", writer,
                   "--tenant", url).exit_code == 0
    assert schema_version_of(url) == 4
    planned = run("plan", "--tenant", as_role(url, reader), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output  # read as schema 4 keeps it
    copy = tmp_path / "copy.db"  # copied out as it is, into this tool's schema
    copied = run("tenant", "copy", url, f"sqlite:///{copy}")
    assert copied.exit_code == 0, copied.output
    assert _numbers(copy) == _resources(copy) and run(
        "plan", "--tenant", f"sqlite:///{copy}", "--detailed-exitcode").exit_code == 0
    lines = example_sites / "Main" / "shared-lines.yaml"
    lines.write_text(lines.read_text().replace(  # renumbered: its member goes with it
        '  - number: "555"', '  - number: "556"\n    previous_number: "555"'))
    early = run("apply", "--auto-approve", "--tenant", as_role(url, writer))
    assert early.exit_code == 1 and "the role that created the tenant migrates it, once " \
        "(reconcile tenant migrate, with that role in the URL)" in early.stderr, early.output
    assert schema_version_of(url) == 4  # nothing was changed
    migrated = run("tenant", "migrate", "--tenant", url)
    assert f"migrated tenant schema 4 -> {pg_schemas.SCHEMA_VERSION}" in migrated.stdout, \
        migrated.output
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    # The reader still plans (the renumber waits), the writer still applies.
    assert run("plan", "--tenant", as_role(url, reader), "--detailed-exitcode").exit_code == 2
    applied = run("apply", "--auto-approve", "--tenant", as_role(url, writer))
    assert applied.exit_code == 0, applied.output
    assert "renumber shared_line 555" in applied.stdout
    assert run("plan", "--tenant", as_role(url, reader), "--detailed-exitcode").exit_code == 0
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    state = open_provider(url).read_state()
    assert state.resources[ResourceKey("Main", Kind.SHARED_LINE, "556")]["members"] == {
        "0901": {"button": 1, "ring_delay": 0}}


def test_both_engines_are_at_one_schema_version(run: Run) -> None:
    """`reconcile --version` names one tenant schema: both engines must be at it."""
    assert pg_schemas.SCHEMA_VERSION == SCHEMA_VERSION
    assert f"tenant schema {SCHEMA_VERSION}," in run("--version").stdout


def test_a_tenant_older_than_a_kinds_table_is_read_and_copied_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new kind's table comes with a new schema version (`Table.since`): a tenant of
    an older version, read as it is (PostgreSQL's), is never asked for it."""
    from reconciler.providers import tenant_tables

    tenant = SqliteTenant(tmp_path / "tenant.db")
    _new_tenant(tenant)
    tenant.create(ResourceKey("Main", Kind.USER, "1001"), USER, None)
    later = tenant_tables.Table("later_groups", "number", ("description",),
                                holds_kinds=False, since=SCHEMA_VERSION + 1)
    monkeypatch.setitem(tenant_tables.TABLES, later.name, later)
    monkeypatch.setitem(tenant_tables.COPIED, later.name, later.copied)
    with contextlib.closing(sqlite3.connect(tenant.path)) as db:
        state = tenant_tables.read_state(db, SCHEMA_VERSION)
        rows = tenant_tables.dump(db, SCHEMA_VERSION)
    assert list(state.resources) == [ResourceKey("Main", Kind.USER, "1001")]
    assert rows["later_groups"] == [] and len(rows["users"]) == 1
