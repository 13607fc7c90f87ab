"""A PostgreSQL tenant's schema: the scripts that build and migrate it, the catalogue's
owners, and a copy restored with its counters counted once.

Every tenant of a database is a schema of its own; `SCRIPTS` takes one from nothing,
or from its version, to `SCHEMA_VERSION`, each in the transaction that records the
new version in the catalogue (`reconciler.tenants`).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from reconciler.providers import pg_roles, tenant_writes
from reconciler.providers.pg_database import PgDatabase
from reconciler.providers.schema_scripts import read_script, versioned_scripts
from reconciler.providers.tenant_tables import TenantDump

#: The script that takes a tenant to each version, run in order from its own; the
#: latest is this tool's version.
SCRIPTS = versioned_scripts("pg_schema_")
SCHEMA_VERSION = max(SCRIPTS)


def migrate(connection: psycopg.Connection, schema: str, version: int) -> None:
    """Take the tenant in `schema` from `version` to SCHEMA_VERSION, in the caller's
    transaction: the scripts, then what they added granted to the roles granted the
    tenant before (`pg_roles`), then the new version in the catalogue."""
    readers, writers = pg_roles.granted(connection, schema)
    for script in scripts_after(version):
        connection.execute(script)
    pg_roles.regranted(connection, schema, readers, writers)
    connection.execute("UPDATE reconciler.tenants SET schema_version = %s "
                       "WHERE schema_name = %s", (SCHEMA_VERSION, schema))


def scripts_after(version: int) -> list[bytes]:
    """The scripts taking a tenant of `version` to SCHEMA_VERSION, in order."""
    return [script(target) for target in sorted(SCRIPTS) if target > version]


# The seat and licence counters are one row each. Counted per insert, a copy of
# 10,000 users in one transaction left 10,000 versions of that row for the next
# insert to walk (38.6 s; 5,000 took 10.7 s). A copy counts once, at the end.
_COUNTERS = {"users": "users_seat_in", "shared_lines": "shared_lines_in"}


def restore_counting_once(db: PgDatabase, rows: TenantDump) -> None:
    # The tables were made empty in this transaction: a plan cached for a trigger's
    # query then would scan the whole table on every later insert.
    db.connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    for table, trigger in _COUNTERS.items():
        db.connection.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(trigger)))
    tenant_writes.restore(db, rows)
    for table, trigger in _COUNTERS.items():
        db.connection.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
            sql.Identifier(table), sql.Identifier(trigger)))
    db.connection.execute("UPDATE packages SET used = "
                          "(SELECT count(*) FROM users WHERE users.package = packages.name)")
    db.connection.execute("UPDATE tenant_facts SET shared_lines_used = "
                          "(SELECT count(*) FROM shared_lines)")
    tenant_writes.check_counts(db)


def script(version: int) -> bytes:
    return read_script(SCRIPTS[version])


def record_unknown_owners(connection: psycopg.Connection) -> None:
    """Fill the owner of tenants made before the catalogue recorded it, from each one's
    own identity, so that a second tenant for the same customer is refused. A tenant
    this role may not read keeps an unknown owner."""
    rows = connection.execute(
        "SELECT key, schema_name FROM reconciler.tenants WHERE owner IS NULL").fetchall()
    for key, schema in rows:
        try:
            with connection.transaction():  # a savepoint: one unreadable tenant is skipped
                found = connection.execute(sql.SQL("SELECT name FROM {}.tenant_identity").format(
                    sql.Identifier(schema))).fetchone()
                if found is not None:
                    connection.execute("UPDATE reconciler.tenants SET owner = %s WHERE key = %s"
                                       " AND NOT EXISTS (SELECT 1 FROM reconciler.tenants "
                                       "WHERE owner = %s)", (found[0], key, found[0]))
        except psycopg.Error:
            continue
