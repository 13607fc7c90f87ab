"""The embedded local tenant: current state kept in a SQLite file.

The file is created on the first apply (a plan never writes). Every write runs
in its own transaction with foreign keys on, so the schema's triggers
(sqlite_schema.sql) judge each step exactly as the portal would.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.errors import TenantError, TenantUnreachable
from schema.fields import version_tuple
from schema.state import Fields, Kind, ResourceKey, TenantFacts, TenantState

SCHEMA_VERSION = 3
_USER_COLUMNS = (
    "name", "package", "portal_id", "email", "direct_dial_number", "call_barring",
    "outgoing_caller_id", "group_member_type", "aad_id", "mac", "password_rotation",
)
_LINE_COLUMNS = ("direct_dial_number", "autodial_digit", "forward_to_vm", "description")
_PBKDF2_ROUNDS = 50_000


def _schema_sql() -> str:
    return resources.files("reconciler.providers").joinpath("sqlite_schema.sql").read_text()


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into statements (triggers hold several ';' of their own).
    executescript() would commit on its own; the schema must go in one transaction."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The portal keeps passwords; our stand-in keeps only a salted hash of them."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    return f"pbkdf2_sha256${_PBKDF2_ROUNDS}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _, _, salt, _ = stored.split("$")
    return secrets.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


class SqliteTenant:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"sqlite:///{path}"
        self._connection: sqlite3.Connection | None = None

    # --- opening ------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if self.path.is_dir():
                raise TenantUnreachable(
                    f"tenant {self.description} is a directory; point --tenant at a file, "
                    "e.g. sqlite:///.reconciler/tenant.db"
                )
            try:
                self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=5)
                self._connection.execute("PRAGMA foreign_keys = ON")
                # WAL with synchronous=NORMAL: a commit no longer waits for fsync, which
                # made one-transaction-per-step applies 1 ms a step; a crash can lose at
                # most the last steps, which the next apply re-plans and redoes.
                self._connection.execute("PRAGMA journal_mode = WAL")
                self._connection.execute("PRAGMA synchronous = NORMAL")
                version = self._connection.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error as error:
                raise TenantUnreachable(
                    f"cannot open tenant {self.description}: {error}; is it a tenant "
                    "database written by reconcile apply?"
                ) from error
            if version not in (0, SCHEMA_VERSION):
                raise TenantUnreachable(
                    f"tenant {self.description} has schema version {version}, this reconciler "
                    f"reads version {SCHEMA_VERSION}; upgrade ipecs-reconciler"
                )
        return self._connection

    def initialise(self, facts: TenantFacts) -> None:
        if self.exists():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise TenantUnreachable(
                f"cannot create the folder for tenant {self.description}: {error.strerror}"
            ) from error
        connection = self._connect()
        with self._transaction():
            for statement in _statements(_schema_sql()):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO tenant_facts (id, platform_version, platform_major, "
                "shared_line_licences, shared_licensing) VALUES (1, ?, ?, ?, ?)",
                (facts.platform_version, version_tuple(facts.platform_version)[0],
                 facts.shared_line_licences, int(facts.shared_licensing)),
            )
            connection.executemany(
                "INSERT INTO packages (name, seats, rank) VALUES (?, ?, ?)",
                [(name, seats, rank) for rank, (name, seats) in enumerate(facts.packages.items())],
            )
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def set_facts(self, facts: TenantFacts) -> None:
        """Record what was bought: the embedded tenant stands for the portal, where a
        platform upgrade or new licences would come from the provider."""
        if not self.exists():
            raise TenantError(f"tenant {self.description} does not exist yet; apply first")

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE tenant_facts SET platform_version = ?, platform_major = ?, "
                "shared_line_licences = ?, shared_licensing = ?",
                (facts.platform_version, version_tuple(facts.platform_version)[0],
                 facts.shared_line_licences, int(facts.shared_licensing)))
            for rank, (name, seats) in enumerate(facts.packages.items()):
                connection.execute(
                    "INSERT INTO packages (name, seats, rank) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE "
                    "SET seats = excluded.seats, rank = excluded.rank", (name, seats, rank))
            names = list(facts.packages)
            connection.execute(f"DELETE FROM packages WHERE name NOT IN "
                               f"({', '.join('?' for _ in names) or 'NULL'})", names)
            over = connection.execute(
                "SELECT name, seats, used FROM packages WHERE used > seats").fetchone()
            if over:
                raise sqlite3.IntegrityError(
                    f"portal: package {over[0]} would have {over[1]} seats for {over[2]} users")
            lines = connection.execute("SELECT count(*) FROM shared_lines").fetchone()[0]
            if lines > facts.shared_line_licences:
                raise sqlite3.IntegrityError(
                    f"portal: {lines} shared lines exist, more than "
                    f"{facts.shared_line_licences} licences")

        self._write("set facts of the tenant", write)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- reading ------------------------------------------------------------
    def read_state(self) -> TenantState:
        if not self.exists():
            return TenantState()
        connection = self._connect()
        try:
            managed: set[ResourceKey] = set()
            resources = self._read_resources(connection, managed)
            return TenantState(resources, self._read_facts(connection), managed)
        except sqlite3.Error as error:
            raise TenantError(f"cannot read tenant {self.description}: {error}") from error

    def _read_facts(self, connection: sqlite3.Connection) -> TenantFacts | None:
        row = connection.execute(
            "SELECT platform_version, shared_line_licences, shared_licensing FROM tenant_facts"
        ).fetchone()
        if row is None:
            return None
        packages = dict(connection.execute("SELECT name, seats FROM packages ORDER BY rank"))
        return TenantFacts(row[0], row[1], bool(row[2]), packages)

    def _read_resources(self, connection: sqlite3.Connection, managed: set[ResourceKey],
                        ) -> dict[ResourceKey, Fields]:
        state: dict[ResourceKey, Fields] = {}
        columns = ", ".join(_USER_COLUMNS)
        query = f"SELECT site, kind, extension, devices, managed, {columns} FROM users"
        for row in connection.execute(query):
            kind = Kind(row[1])
            fields: Fields = dict(zip(_USER_COLUMNS, row[5:], strict=True))
            if kind is Kind.USER:
                fields["devices"] = json.loads(row[3])
            else:
                del fields["mac"]
            key = ResourceKey(row[0], kind, row[2])
            state[key] = fields
            if row[4]:
                managed.add(key)
        members: dict[str, dict[str, dict[str, Any]]] = {}
        for line, extension, button, delay in connection.execute(
            "SELECT shared_line, extension, button, ring_delay FROM shared_line_members"
        ):
            members.setdefault(line, {})[extension] = {"button": button, "ring_delay": delay}
        columns = ", ".join(_LINE_COLUMNS)
        query = f"SELECT site, number, managed, {columns} FROM shared_lines"
        for row in connection.execute(query):
            fields = dict(zip(_LINE_COLUMNS, row[3:], strict=True))
            fields["forward_to_vm"] = bool(fields["forward_to_vm"])
            fields["members"] = members.get(row[1], {})
            key = ResourceKey(row[0], Kind.SHARED_LINE, row[1])
            state[key] = fields
            if row[2]:
                managed.add(key)
        return state

    # --- writing ------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole apply
        except OSError as error:
            raise TenantUnreachable(f"cannot create lock {lock_path}: {error.strerror}") from error
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise TenantError(
                    f"tenant {self.description} is locked by {holder}; wait for that apply to "
                    f"finish (or remove {lock_path} if that process is gone)"
                ) from error
            handle.seek(0)
            handle.truncate()
            handle.write(f"reconcile apply (pid {os.getpid()})\n")
            handle.flush()
            yield
        finally:
            handle.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _write(self, doing: str, write: Callable[[sqlite3.Connection], None]) -> None:
        """Run one step in one transaction; `doing` names it in the refusal message."""
        try:
            with self._transaction() as connection:
                write(connection)
        except sqlite3.Error as error:
            raise TenantError(f"the tenant refused to {doing}: {_portal_message(error)}"
                              ) from error

    def create(self, key: ResourceKey, fields: Fields, password: str | None) -> None:
        table, id_column, columns = _TABLES[key.kind.is_user]
        values = {id_column: key.number, "site": key.site, "managed": 1,
                  **_column_values(fields, columns, password)}
        if key.kind.is_user:
            values["kind"] = key.kind.value

        def write(connection: sqlite3.Connection) -> None:
            _insert(connection, table, values)
            if "members" in fields:
                _set_members(connection, key.number, fields["members"])

        self._write(f"create {key}", write)

    def update(self, key: ResourceKey, fields: Fields, password: str | None,
               adopt: bool = False) -> None:
        table, id_column, columns = _TABLES[key.kind.is_user]
        values = _column_values(fields, columns, password)
        if adopt:
            values["managed"] = 1

        def write(connection: sqlite3.Connection) -> None:
            if values:
                _update(connection, table, id_column, key, values)
            if "members" in fields:
                _set_members(connection, key.number, fields["members"])

        self._write(f"{'adopt' if adopt else 'update'} {key}", write)

    def renumber(self, key: ResourceKey, number: str) -> None:
        table, id_column, _ = _TABLES[key.kind.is_user]
        self._write(f"renumber {key} to {number}",
                    lambda connection: _update(connection, table, id_column, key,
                                               {id_column: number}))

    def delete(self, key: ResourceKey) -> None:
        table, _, _ = _TABLES[key.kind.is_user]
        where, arguments = _where(key)
        self._write(f"delete {key}", lambda connection: _expect_one(connection.execute(
            f"DELETE FROM {table} WHERE {where}", arguments), key))


_TABLES = {True: ("users", "extension", _USER_COLUMNS),
           False: ("shared_lines", "number", _LINE_COLUMNS)}


_SQLITE_MEANINGS = {
    "FOREIGN KEY constraint failed": "a shared-line member is not a user of the tenant, or a "
                                     "user still belongs to a shared line",
    "UNIQUE constraint failed: users.extension": "the extension is already taken",
    "UNIQUE constraint failed: shared_lines.number": "the number is already taken",
}


def _portal_message(error: sqlite3.Error) -> str:
    """The tenant's refusal in a user's words: our triggers speak already; SQLite's
    own constraint messages are translated."""
    text = str(error).removeprefix("portal: ")
    if text.startswith("UNIQUE constraint failed: ") and text not in _SQLITE_MEANINGS:
        column = text.rsplit(".", 1)[-1]
        return f"the {column} is already used by another resource"
    return _SQLITE_MEANINGS.get(text, text)


def _column_values(fields: Fields, columns: tuple[str, ...], password: str | None
                   ) -> dict[str, Any]:
    values = {name: fields[name] for name in columns if name in fields}
    if "forward_to_vm" in values:
        values["forward_to_vm"] = int(values["forward_to_vm"])
    if "devices" in fields:
        values["devices"] = json.dumps(fields["devices"])
    if password is not None:
        values["password_hash"] = hash_password(password)
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
    """Match a resource by its whole key: number, site and (for users) kind."""
    if key.kind.is_user:
        return "extension = ? AND site = ? AND kind = ?", (key.number, key.site, key.kind.value)
    return "number = ? AND site = ?", (key.number, key.site)


def _update(connection: sqlite3.Connection, table: str, id_column: str, key: ResourceKey,
            values: dict[str, Any]) -> None:
    setters = ", ".join(f"{name} = ?" for name in values)
    where, arguments = _where(key)
    _expect_one(connection.execute(f"UPDATE {table} SET {setters} WHERE {where}",
                                   (*values.values(), *arguments)), key)


def _expect_one(cursor: sqlite3.Cursor, key: ResourceKey) -> None:
    if cursor.rowcount != 1:
        raise sqlite3.IntegrityError(f"{key} does not exist in the tenant")
