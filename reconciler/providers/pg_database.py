"""psycopg behind the engine-neutral `Database` protocol (`tenant_tables`): the SQL
both tenants share runs on a PostgreSQL connection through these few pieces.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

import psycopg

from reconciler.providers import refusals
from reconciler.providers.tenant_tables import TABLES

_CURSOR_NAMES = count()
# psycopg logs the aborted pipeline a refused step leaves; the refusal itself reaches
# the user as a message, so the log record must not reach stderr by Python's default.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


class PgDatabase:
    """psycopg behind the `Database` protocol: `?` marks become `%s`; with `streaming`,
    a query without parameters runs in a server-side cursor, fetched in batches. In a
    pipeline, a statement's row count is waited for only when it is asked for."""

    def __init__(self, connection: psycopg.Connection, streaming: bool = False,
                 pipeline: psycopg.Pipeline | None = None) -> None:
        self.connection = connection
        self.streaming = streaming
        self.pipeline = pipeline

    def execute(self, statement: str, parameters: Any = ()) -> Any:
        statement = statement.replace("?", "%s")
        if self.streaming and not parameters:
            server_side = self.connection.cursor(name=f"reading_{next(_CURSOR_NAMES)}")
            server_side.itersize = 10_000
            return server_side.execute(statement.encode())
        cursor = self.connection.execute(statement.encode(), parameters or None)
        return cursor if self.pipeline is None else _Piped(cursor, self.pipeline)

    def change_one(self, statement: str, parameters: tuple[Any, ...], missing: str) -> None:
        """`tenant_tables.ChecksRowsInServer`: the count is checked by the server."""
        self.execute(f"WITH changed AS ({statement} RETURNING 1) "
                     "SELECT expect_one_row(count(*), ?) FROM changed", (*parameters, missing))

    def executemany(self, statement: str, parameters: Any) -> Any:
        with self.connection.cursor() as cursor:
            cursor.executemany(statement.replace("?", "%s").encode(), parameters)


class _Piped:
    """A cursor whose statement went out in a pipeline: asking its row count sends what
    is queued and waits (fetching does that by itself)."""

    def __init__(self, cursor: psycopg.Cursor[Any], pipeline: psycopg.Pipeline) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    @property
    def rowcount(self) -> int:
        self._pipeline.sync()
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


@contextmanager
def snapshot(connection: psycopg.Connection) -> Iterator[None]:
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


#: The primary key's column of each table a step inserts into (PostgreSQL names only
#: the constraint, `<table>_pkey`).
_KEY_COLUMNS = {"numbers": "number", **{t.name: t.id_column for t in TABLES.values()}}


def as_sqlite_words(error: psycopg.Error) -> str:
    """The engine's refusal as `refusals` reads it (the embedded tenant's words)."""
    diag = error.diag
    if isinstance(error, psycopg.errors.ForeignKeyViolation):
        return refusals.FOREIGN_KEY
    if isinstance(error, psycopg.errors.UniqueViolation) and diag.table_name:
        constraint = diag.constraint_name or ""
        column = constraint.removeprefix(f"{diag.table_name}_").removesuffix("_key")
        if constraint.endswith("_pkey"):
            column = _KEY_COLUMNS.get(diag.table_name, "id")
        return f"UNIQUE constraint failed: {diag.table_name}.{column}"
    if isinstance(error, psycopg.errors.CheckViolation) and diag.table_name:
        # "users_mac_check": the column's name. PostgreSQL names the two table-wide
        # checks of `users` users_check (devices by kind) and users_check1 (a MAC).
        constraint = (diag.constraint_name or "").removeprefix(f"{diag.table_name}_")
        constraint = {"check": "devices", "check1": "mac"}.get(constraint, constraint)
        return refusals.CHECK + constraint.removesuffix("_check")
    return (diag.message_primary or str(error)).strip()
