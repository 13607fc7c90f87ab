"""A tenant's lock in PostgreSQL: a session advisory lock, plus a row naming the holder.

As Terraform's `pg` backend does it: the server holds the lock for the connection
that took it and releases it the moment that connection ends, however it ends (a
cancelled CI job, a killed runner, a network cut). No stale lock, nothing to
force-unlock. The row says who holds it; it is trusted only while its backend
really holds the lock, so a row left by a dead holder is ignored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from reconciler.providers.lock_holders import LockHolder
from reconciler.runtime.errors import TenantLocked

# The first of the two keys of every tenant lock: "iPECS" on a phone keypad.
LOCK_CLASS = 47_327
_POLL_SECONDS = 0.2


def lock_key(tenant_key: str) -> int:
    """The second key: stable across processes and machines (unlike Python's hash)."""
    return int.from_bytes(hashlib.sha256(tenant_key.encode()).digest()[:4], "big") & 0x7FFFFFFF


@contextmanager
def held(connection: psycopg.Connection, tenant_key: str, shown: str,
         timeout: float) -> Iterator[None]:
    key = lock_key(tenant_key)
    deadline = time.monotonic() + timeout
    while not _try(connection, key):
        if time.monotonic() >= deadline:
            holder = holder_of(connection, tenant_key)
            who = holder.describe() if holder else "another apply (it has not said who yet)"
            waited = f" after waiting {timeout:g} s" if timeout else ""
            raise TenantLocked(
                f"tenant {shown} is locked by {who}{waited}. The server releases the lock "
                "the moment that apply's connection ends, however it ends; wait for it, or "
                "pass --lock-timeout to wait here (e.g. --lock-timeout 10m)")
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    try:
        connection.execute(
            "INSERT INTO reconciler.lock_holders (tenant_key, backend_pid, holder) "
            "VALUES (%s, pg_backend_pid(), %s) ON CONFLICT (tenant_key) DO UPDATE "
            "SET backend_pid = excluded.backend_pid, holder = excluded.holder",
            (tenant_key, LockHolder.current().to_json()))
        yield
    finally:
        if not connection.closed:
            connection.execute("DELETE FROM reconciler.lock_holders WHERE tenant_key = %s "
                               "AND backend_pid = pg_backend_pid()", (tenant_key,))
            connection.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, key))


def _try(connection: psycopg.Connection, key: int) -> bool:
    row = connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, key)).fetchone()
    return bool(row and row[0])


def holder_of(connection: psycopg.Connection, tenant_key: str) -> LockHolder | None:
    """Who holds the tenant's lock now: the row, if its backend holds the lock."""
    try:
        row = connection.execute(
            "SELECT h.holder FROM reconciler.lock_holders h JOIN pg_locks l "
            "ON l.pid = h.backend_pid AND l.locktype = 'advisory' AND l.granted "
            "AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 "
            "WHERE h.tenant_key = %s", (LOCK_CLASS, lock_key(tenant_key), tenant_key)
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return LockHolder.from_json(row[0]) if row else None
