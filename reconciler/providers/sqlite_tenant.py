"""The embedded local tenant: current state kept in a SQLite file.

The file is created whole on the first apply (a plan never writes; see
`sqlite_storage`). Every write runs in its own transaction with foreign keys on,
so the schema's triggers judge each step exactly as the portal would, and an
apply's journal row moves forward in the same transaction as the step it
counts.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from reconciler.providers import (
    file_lock,
    refusals,
    sqlite_storage,
    tenant_tables,
    tenant_writes,
)
from reconciler.providers.lock_holders import LockHolder
from reconciler.providers.sqlite_storage import SCHEMA_VERSION, transaction
from reconciler.providers.tenant_tables import TenantDump
from reconciler.providers.tenant_writes import Refused
from reconciler.runtime import failpoints
from reconciler.runtime.errors import TenantError, TenantUnreachable
from schema.state import Fields, NewPassword, ResourceKey, TenantFacts, TenantState


class SqliteTenant:
    def __init__(self, path: Path) -> None:
        self.description = f"sqlite:///{path}"
        self.path = sqlite_storage.checked_path(path, self.description)
        self._writer: sqlite3.Connection | None = None

    def bind(self, tenant: str) -> None:
        """One file is one tenant: the name is checked against the file's identity."""

    # --- what is there --------------------------------------------------------
    def exists(self) -> bool:
        """True once the file holds a tenant (an empty file does not)."""
        return sqlite_storage.contents(self.path, self.description).holds_tenant

    def schema_version(self) -> int | None:
        return sqlite_storage.contents(self.path, self.description).version

    def latest_schema(self) -> int:
        return SCHEMA_VERSION

    def pending_migration(self) -> list[str]:
        contents = self._contents()
        if contents.version is None or not contents.behind:
            return []
        return sqlite_storage.migration_statements(contents.version, contents.lacks_late_4)

    def _contents(self) -> sqlite_storage.Contents:
        return sqlite_storage.contents(self.path, self.description)

    def initialise(self, facts: TenantFacts, name: str) -> str | None:
        """Create the tenant for `name` if there is none, or migrate an older one.
        Says what it did, or None if the tenant was ready."""
        contents = self._contents()
        version = contents.version
        if version is None:
            self.close()
            sqlite_storage.create(self.path, facts, name)
            return f"created tenant {name!r} at {self.description}"
        if contents.behind:
            self._run("migrate the tenant's schema",
                      lambda connection: sqlite_storage.migrate(connection, version, None))
            return _migrated(contents)
        return None

    def dump(self) -> TenantDump:
        with contextlib.closing(self._reader(self._existing())) as connection:
            connection.execute("BEGIN")
            try:
                return tenant_tables.dump(connection)
            finally:
                connection.execute("COMMIT")

    def restore(self, rows: TenantDump) -> None:
        """Create this tenant as a copy of another's rows, whole or not at all."""
        if self.exists():
            raise TenantError(f"{self.description} already holds a tenant; copy only into "
                              "a place that holds none")
        self.close()
        name = rows["tenant_identity"][0][1] if rows.get("tenant_identity") else "copy"
        sqlite_storage.create(self.path, TenantFacts("0", 0, False, {}), name,
                              lambda connection: tenant_writes.restore(connection, rows))

    def _existing(self) -> sqlite_storage.Contents:
        contents = self._contents()
        if contents.version is None:
            raise TenantError(f"tenant {self.description} does not exist")
        return contents

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
        contents = self._contents()
        if contents.version is None:
            return TenantState()
        try:
            with contextlib.closing(self._reader(contents)) as connection:
                connection.execute("BEGIN")
                try:
                    return tenant_tables.read_state(connection)
                finally:
                    connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise TenantError(f"cannot read tenant {self.description}: {error}") from error

    def _reader(self, contents: sqlite_storage.Contents) -> sqlite3.Connection:
        connection = sqlite_storage.open_for_reading(self.path, self.description)
        if not contents.behind:
            return connection
        with contextlib.closing(connection):
            return sqlite_storage.migrated_copy(connection)

    def check_integrity(self) -> list[str]:
        """What is wrong with the tenant's storage and bookkeeping (empty: nothing)."""
        with contextlib.closing(
                sqlite_storage.open_for_reading(self.path, self.description)) as connection:
            problems = [f"storage: {row[0]}" for row in
                        connection.execute("PRAGMA integrity_check") if row[0] != "ok"]
            problems += [f"{row[0]} row {row[1]} refers to a missing {row[2]}"
                         for row in connection.execute("PRAGMA foreign_key_check")]
            return problems + tenant_tables.bookkeeping_problems(connection)

    # --- the apply journal ----------------------------------------------------
    def begin_apply(self, plan_checksum: str, total_steps: int, started_by: str) -> None:
        self._run("record the apply in its journal", lambda db: tenant_writes.begin_journal(
            db, plan_checksum, total_steps, started_by))

    def finish_apply(self) -> None:
        self._run("close the apply's journal", tenant_writes.finish_journal)

    # --- writing --------------------------------------------------------------
    def create(self, key: ResourceKey, fields: Fields, password: NewPassword | None, *,
               step: int | None = None) -> None:
        self._run(f"create {key}", lambda db: tenant_writes.create(db, key, fields, password),
                  step, key, fields)

    def update(self, key: ResourceKey, fields: Fields, password: NewPassword | None,
               adopt: bool = False, *, step: int | None = None) -> None:
        self._run(f"{'adopt' if adopt else 'update'} {key}",
                  lambda db: tenant_writes.update(db, key, fields, password, adopt),
                  step, key, fields)

    def renumber(self, key: ResourceKey, number: str, heading_for: str | None = None, *,
                 step: int | None = None) -> None:
        self._run(f"renumber {key} to {number}",
                  lambda db: tenant_writes.renumber(db, key, number, heading_for), step, key)

    def delete(self, key: ResourceKey, *, step: int | None = None) -> None:
        self._run(f"delete {key}", lambda db: tenant_writes.delete(db, key), step, key)

    def set_facts(self, facts: TenantFacts) -> None:
        """Record what was bought: the embedded tenant stands for the portal, where a
        platform upgrade or new licences would come from the provider."""
        if not self.exists():
            raise TenantError(f"tenant {self.description} does not exist yet; apply first")
        self._run("set facts of the tenant", lambda db: tenant_writes.write_facts(db, facts))

    def claim(self, name: str) -> str | None:
        contents = self._contents()
        version = contents.version
        if version is None:
            raise TenantError(f"tenant {self.description} does not exist yet; the first "
                              "apply creates it, recording whose it is")

        def claimed(connection: sqlite3.Connection) -> None:
            if contents.behind:
                sqlite_storage.migrate(connection, version, None)
            tenant_writes.claim(connection, name, self.description)

        self._run("record whose the tenant is", claimed)
        return _migrated(contents) if contents.behind else None

    def rename(self, old: str, new: str) -> None:
        if self._contents().behind or self.schema_version() is None:
            raise TenantError(f"tenant {self.description} does not exist yet or needs "
                              "`reconcile tenant migrate` first")
        self._run("rename the tenant",
                  lambda db: tenant_writes.rename(db, old, new, self.description))

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
                    tenant_writes.step_journal(connection, step)
                    failpoints.reach(f"step-{step}-write")
        except TenantError:
            raise
        except Refused as refusal:
            raise TenantError(f"the tenant refused to {doing}: {refusal}") from refusal
        except sqlite3.Error as error:
            why = refusals.explain(str(error), connection, key, fields or {})
            raise TenantError(f"the tenant refused to {doing}: {why}") from error


def _migrated(contents: sqlite_storage.Contents) -> str:
    return f"migrated tenant schema {contents.version} -> {SCHEMA_VERSION}"
