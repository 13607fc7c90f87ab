"""Acting on the local tenant as the portal would, behind the reconciler's back."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path


def mark_unmanaged(db: Path, *numbers: str) -> None:
    """As if these were made by hand in the portal: no reconciler marker."""
    with contextlib.closing(sqlite3.connect(db)) as connection, connection:
        for number in numbers:
            connection.execute("UPDATE users SET managed = 0 WHERE extension = ?", (number,))
            connection.execute("UPDATE shared_lines SET managed = 0 WHERE number = ?", (number,))


def portal_edit(db: Path, sql: str, *arguments: object) -> None:
    with contextlib.closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(sql, arguments)


def copy_tenant(source: Path, target: Path) -> None:
    """A consistent copy, write-ahead log included (a file copy could miss it)."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as reading, \
            contextlib.closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def provider_sql(provider: object, statement: str, *arguments: object) -> None:
    """SQL straight to a provider's store (SQLite file or PostgreSQL schema), as the
    portal would change it behind the reconciler's back."""
    from reconciler.providers import SqliteTenant
    from reconciler.providers.pg_tenant import PostgresTenant

    if isinstance(provider, SqliteTenant):
        portal_edit(provider.path, statement, *arguments)
    elif isinstance(provider, PostgresTenant):
        provider._lookup()
        provider._open().execute(statement.replace("?", "%s").encode(), arguments or None)
    else:
        raise TypeError(f"no raw SQL for {type(provider).__name__}")


def mark_unmanaged_in(provider: object, *numbers: str) -> None:
    for number in numbers:
        provider_sql(provider, "UPDATE users SET managed = 0 WHERE extension = ?", number)
        provider_sql(provider, "UPDATE shared_lines SET managed = 0 WHERE number = ?", number)


def name_tenant(sites: Path, name: str) -> None:
    """Rewrite tenant.yaml's `tenant:` (what a pull request that renames it does)."""
    tenant_yaml = sites / "tenant.yaml"
    tenant_yaml.write_text(re.sub(r"(?m)^tenant: .*$", f"tenant: {name}",
                                  tenant_yaml.read_text()))


def as_role(url: str, role: str) -> str:
    """The same tenant URL, reached as another PostgreSQL role."""
    return re.sub(r"//[^@/]*@", f"//{role}@", url, count=1)


def schema_version_of(url: str) -> int | None:
    """The tenant's schema version, as its provider reads it (None: no tenant)."""
    from reconciler.providers import open_provider

    tenant = open_provider(url)
    try:
        return tenant.schema_version()
    finally:
        tenant.close()
