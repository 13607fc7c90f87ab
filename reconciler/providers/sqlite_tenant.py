"""The embedded local tenant: current state kept in a SQLite file.

The file is created whole on the first apply (a plan never writes; see
`sqlite_storage`). Every write runs in its own transaction with foreign keys on,
so the schema's triggers judge each step exactly as the portal would, and an
apply's journal row moves forward in the same transaction as the step it
counts.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from reconciler import failpoints
from reconciler.errors import TenantError, TenantUnreachable
from reconciler.providers import file_lock, sqlite_reading, sqlite_refusals, sqlite_storage
from reconciler.providers.lock_holders import LockHolder, now
from reconciler.providers.password_hashing import hash_password
from reconciler.providers.sqlite_storage import SCHEMA_VERSION, transaction
from reconciler.providers.sqlite_tables import table_for
from schema.state import (
    Fields,
    NewPassword,
    ResourceKey,
    TenantFacts,
    TenantState,
)


class SqliteTenant:
    def __init__(self, path: Path) -> None:
        self.description = f"sqlite:///{path}"
        self.path = sqlite_storage.checked_path(path, self.description)
        self._writer: sqlite3.Connection | None = None

    # --- what is there --------------------------------------------------------
    def exists(self) -> bool:
        """True once the file holds a tenant (an empty file does not)."""
        return sqlite_storage.contents(self.path, self.description).holds_tenant

    def schema_version(self) -> int | None:
        return sqlite_storage.contents(self.path, self.description).version

    def latest_schema(self) -> int:
        return SCHEMA_VERSION

    def pending_migration(self) -> list[str]:
        version = self.schema_version()
        if version is None or version == SCHEMA_VERSION:
            return []
        return sqlite_storage.migration_statements(version)

    def initialise(self, facts: TenantFacts, name: str) -> str | None:
        """Create the tenant for `name` if there is none, or migrate an older one.
        Says what it did, or None if the tenant was ready."""
        version = self.schema_version()
        if version is None:
            self.close()
            sqlite_storage.create(self.path, facts, name)
            return f"created tenant {name!r} at {self.description}"
        if version < SCHEMA_VERSION:
            self._run("migrate the tenant's schema",
                      lambda connection: sqlite_storage.migrate(connection, version, name))
            return f"migrated tenant schema {version} -> {SCHEMA_VERSION}"
        return None

    def lock(self, timeout: float = 0.0) -> AbstractContextManager[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        return file_lock.held(lock_path, self.description, timeout)

    def lock_holder(self) -> LockHolder | None:
        return file_lock.holder_of(self.path.with_name(self.path.name + ".lock"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # --- reading --------------------------------------------------------------
    def read_state(self) -> TenantState:
        """Everything in one read transaction: one consistent snapshot, even while an
        apply is writing."""
        version = self.schema_version()
        if version is None:
            return TenantState()
        try:
            with contextlib.closing(self._reader(version)) as connection:
                connection.execute("BEGIN")
                try:
                    return sqlite_reading.read_state(connection)
                finally:
                    connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise TenantError(f"cannot read tenant {self.description}: {error}") from error

    def _reader(self, version: int) -> sqlite3.Connection:
        connection = sqlite_storage.open_for_reading(self.path, self.description)
        if version == SCHEMA_VERSION:
            return connection
        with contextlib.closing(connection):
            return sqlite_storage.migrated_copy(connection)

    def check_integrity(self) -> list[str]:
        """What is wrong with the tenant's own bookkeeping (empty: nothing)."""
        with contextlib.closing(
                sqlite_storage.open_for_reading(self.path, self.description)) as connection:
            return sqlite_reading.integrity_problems(connection)

    # --- the apply journal ----------------------------------------------------
    def begin_apply(self, plan_checksum: str, total_steps: int, started_by: str) -> None:
        """Record the apply about to start; it replaces the journal of one that stopped."""
        self._run("record the apply in its journal", lambda connection: connection.execute(
            "INSERT OR REPLACE INTO apply_journal (id, plan_checksum, total_steps, steps_done, "
            "started_at, started_by) VALUES (1, ?, ?, 0, ?, ?)",
            (plan_checksum, total_steps, now(), started_by)))

    def finish_apply(self) -> None:
        self._run("close the apply's journal",
                  lambda connection: connection.execute("DELETE FROM apply_journal"))

    # --- writing --------------------------------------------------------------
    def create(self, key: ResourceKey, fields: Fields, password: NewPassword | None, *,
               step: int | None = None) -> None:
        table = table_for(key.kind)
        # The identity is given here; the tenant's trigger gives one only to resources
        # made without it (by hand), and an extra UPDATE per create made apply 1.5x slower.
        values = {table.id_column: key.number, "site": key.site, "managed": 1,
                  "uid": uuid.uuid4().hex, **_column_values(fields, table.columns, password)}
        if table.holds_kinds:
            values["kind"] = key.kind.value

        def write(connection: sqlite3.Connection) -> None:
            _insert(connection, table.name, values)
            if "members" in fields:
                _set_members(connection, key.number, fields["members"])

        self._run(f"create {key}", write, step, key, fields)

    def update(self, key: ResourceKey, fields: Fields, password: NewPassword | None,
               adopt: bool = False, *, step: int | None = None) -> None:
        table = table_for(key.kind)
        values = _column_values(fields, table.columns, password)
        if adopt:
            values["managed"] = 1

        def write(connection: sqlite3.Connection) -> None:
            if values:
                _update(connection, table.name, key, values)
            if "members" in fields:
                _set_members(connection, key.number, fields["members"])

        self._run(f"{'adopt' if adopt else 'update'} {key}", write, step, key, fields)

    def renumber(self, key: ResourceKey, number: str, heading_for: str | None = None, *,
                 step: int | None = None) -> None:
        """Give a resource a new number. With `heading_for`, the new number is a
        temporary one: the journal remembers where the resource is going. The number
        it came from is kept across a stop on a temporary number."""
        table = table_for(key.kind)

        def write(connection: sqlite3.Connection) -> None:
            uid, came_from = _identity_of(connection, table.name, key)
            was_parked = connection.execute("DELETE FROM parked WHERE uid = ?", (uid,)).rowcount
            origin = came_from if was_parked else key.number
            _update(connection, table.name, key, {table.id_column: number,
                                                  "renumbered_from": origin})
            if heading_for is not None:
                connection.execute("INSERT INTO parked (uid, heading_for) VALUES (?, ?)",
                                   (uid, heading_for))

        self._run(f"renumber {key} to {number}", write, step, key)

    def delete(self, key: ResourceKey, *, step: int | None = None) -> None:
        where, arguments = _where(key)
        self._run(f"delete {key}", lambda connection: _expect_one(connection.execute(
            f"DELETE FROM {table_for(key.kind).name} WHERE {where}", arguments), key), step, key)

    def set_facts(self, facts: TenantFacts) -> None:
        """Record what was bought: the embedded tenant stands for the portal, where a
        platform upgrade or new licences would come from the provider."""
        if not self.exists():
            raise TenantError(f"tenant {self.description} does not exist yet; apply first")
        self._run("set facts of the tenant",
                  lambda connection: sqlite_storage.write_facts(connection, facts))

    def rename(self, old: str, new: str) -> None:
        def write(connection: sqlite3.Connection) -> None:
            held = connection.execute("SELECT name FROM tenant_identity").fetchone()
            if held is None or held[0] != old:
                raise TenantError(f"tenant {self.description} holds "
                                  f"{json.dumps(held[0] if held else None)}, not "
                                  f"{json.dumps(old)}; nothing was renamed")
            connection.execute("UPDATE tenant_identity SET name = ?", (new,))

        if self.schema_version() != SCHEMA_VERSION:
            raise TenantError(f"tenant {self.description} does not exist yet or needs "
                              "`reconcile tenant migrate` first")
        self._run("rename the tenant", write)

    def _connection(self) -> sqlite3.Connection:
        if self._writer is None:
            try:
                self._writer = sqlite_storage.open_for_writing(self.path)
            except sqlite3.Error as error:
                raise TenantUnreachable(
                    f"cannot open tenant {self.description} for writing: {error}") from error
        return self._writer

    def _run(self, doing: str, write: Callable[[sqlite3.Connection], object],
             step: int | None = None, key: ResourceKey | None = None,
             fields: Fields | None = None) -> None:
        """One step in one transaction, which also moves the journal on to `step`;
        `doing` names it in the refusal message, `key` and `fields` explain it."""
        connection = self._connection()
        try:
            with transaction(connection):
                write(connection)
                if step is not None:
                    connection.execute("UPDATE apply_journal SET steps_done = ?", (step,))
                    failpoints.reach(f"step-{step}-write")
        except TenantError:
            raise
        except sqlite3.Error as error:
            why = sqlite_refusals.explain(error, connection, key, fields or {})
            raise TenantError(f"the tenant refused to {doing}: {why}") from error


def _column_values(fields: Fields, columns: tuple[str, ...], password: NewPassword | None
                   ) -> dict[str, Any]:
    values = {name: fields[name] for name in columns if name in fields}
    if "forward_to_vm" in values:
        values["forward_to_vm"] = int(values["forward_to_vm"])
    if "devices" in fields:
        values["devices"] = json.dumps(fields["devices"])
    if password is not None:
        values["password_hash"] = hash_password(password.value)
        values["password_from"] = password.source
    return values


def _set_members(connection: sqlite3.Connection, number: str,
                 members: dict[str, dict[str, Any]]) -> None:
    connection.execute("DELETE FROM shared_line_members WHERE shared_line = ?", (number,))
    connection.executemany(
        "INSERT INTO shared_line_members (shared_line, extension, button, ring_delay) "
        "VALUES (?, ?, ?, ?)",
        [(number, extension, member["button"], member["ring_delay"])
         for extension, member in members.items()],
    )


def _insert(connection: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    connection.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))


def _where(key: ResourceKey) -> tuple[str, tuple[str, ...]]:
    """Match a resource by its whole key: number, site and (in a shared table) kind."""
    table = table_for(key.kind)
    if table.holds_kinds:
        return (f"{table.id_column} = ? AND site = ? AND kind = ?",
                (key.number, key.site, key.kind.value))
    return f"{table.id_column} = ? AND site = ?", (key.number, key.site)


def _identity_of(connection: sqlite3.Connection, table: str, key: ResourceKey
                 ) -> tuple[str, str | None]:
    where, arguments = _where(key)
    row = connection.execute(f"SELECT uid, renumbered_from FROM {table} WHERE {where}",
                             arguments).fetchone()
    if row is None:
        raise sqlite3.IntegrityError(f"{key} does not exist in the tenant")
    return row[0], row[1]


def _update(connection: sqlite3.Connection, table: str, key: ResourceKey,
            values: dict[str, Any]) -> None:
    setters = ", ".join(f"{name} = ?" for name in values)
    where, arguments = _where(key)
    _expect_one(connection.execute(f"UPDATE {table} SET {setters} WHERE {where}",
                                   (*values.values(), *arguments)), key)


def _expect_one(cursor: sqlite3.Cursor, key: ResourceKey) -> None:
    if cursor.rowcount != 1:
        raise sqlite3.IntegrityError(f"{key} does not exist in the tenant")
