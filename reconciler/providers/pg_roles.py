"""Who may do what with a PostgreSQL tenant: a reader role plans (every column but the
password hashes), a writer role applies; each is granted one tenant, nothing of another.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

from reconciler.runtime.errors import TenantError, TenantUnreachable
from reconciler.runtime.redaction import redact_url


def grants(connection: psycopg.Connection, schema_name: str, reader: str | None,
           writer: str | None, catalogue: bool = True) -> list[sql.Composed]:
    """The statements granting `reader` and `writer` the tenant in `schema_name` (and,
    with `catalogue`, what they need of the catalogue to find it)."""
    schema = sql.Identifier(schema_name)
    statements: list[sql.Composed] = []
    columns = [sql.Identifier(name) for (name,) in connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
        "table_name = 'users' AND column_name <> 'password_hash' ORDER BY ordinal_position",
        (schema_name,))]
    for role, writes in ((reader, False), (writer, True)):
        if role is None:
            continue
        who = sql.Identifier(role)
        if catalogue:
            statements += [
                sql.SQL("GRANT USAGE ON SCHEMA reconciler TO {}").format(who),
                sql.SQL("GRANT SELECT ON reconciler.tenants, reconciler.lock_holders TO {}"
                        ).format(who)]
            if writes:
                statements += [
                    sql.SQL("GRANT UPDATE ON reconciler.tenants TO {}").format(who),
                    sql.SQL("GRANT INSERT, UPDATE, DELETE ON reconciler.lock_holders TO {}"
                            ).format(who)]
        statements.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who))
        if writes:
            statements += [
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} "
                        "TO {}").format(schema, who),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                    schema, who)]
        else:
            statements += [
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, who),
                # Every column of users but the password hashes (and their salts).
                sql.SQL("REVOKE SELECT ON {}.users FROM {}").format(schema, who),
                sql.SQL("GRANT SELECT ({}) ON {}.users TO {}").format(
                    sql.SQL(", ").join(columns), schema, who)]
    return statements


def granted(connection: psycopg.Connection, schema_name: str
            ) -> tuple[list[str], list[str]]:
    """The roles granted the tenant in `schema_name` (`tenant grant`): (readers,
    writers). A writer may update its users; a reader reads its facts and may not."""
    rows = connection.execute(
        "SELECT grantee, bool_or(table_name = 'users' AND privilege_type = 'UPDATE'), "
        "bool_or(table_name = 'tenant_facts' AND privilege_type = 'SELECT') "
        "FROM information_schema.role_table_grants WHERE table_schema = %s "
        "AND grantee <> current_user GROUP BY grantee ORDER BY grantee",
        (schema_name,)).fetchall()
    return ([role for role, writes, reads in rows if reads and not writes],
            [role for role, writes, _ in rows if writes])


def regranted(connection: psycopg.Connection, schema_name: str,
              readers: list[str], writers: list[str]) -> None:
    """Grant again what `granted` found, after a migration: tables and columns it added
    are then theirs as the others are (a reader still plans, a writer still applies)."""
    for role in readers:
        for statement in grants(connection, schema_name, role, None, catalogue=False):
            connection.execute(statement)
    for role in writers:
        for statement in grants(connection, schema_name, None, role, catalogue=False):
            connection.execute(statement)


def refuse_read_only(connection: psycopg.Connection,
                     lookup: Callable[[], tuple[str, int] | None],
                     key: Callable[[], str], description: str) -> None:
    """Refuse, in words that say so, a role that may only read (a plan job's) where it
    would write: before anything is written or waited for."""
    try:
        row = connection.execute(
            "SELECT current_user, to_regclass('reconciler.lock_holders') IS NOT NULL, "
            "has_database_privilege(current_database(), 'CREATE')").fetchone()
        assert row is not None
        user, catalogued, may_create = row
        found = lookup() if catalogued else None
        if found is None:
            allowed = may_create and (not catalogued or _answer(
                connection, "SELECT has_table_privilege('reconciler.tenants', 'INSERT')"))
        else:
            allowed = _answer(
                connection, "SELECT has_table_privilege('reconciler.lock_holders', 'INSERT')"
                " AND has_table_privilege(format('%%I.users', %s::text), 'UPDATE')",
                found[0])
    except psycopg.Error as error:
        raise TenantUnreachable(f"cannot check what {description} may do: "
                                f"{redact_url(str(error)).strip()}") from error
    if not allowed:
        what = "create tenants here" if found is None else f"write tenant {key()!r}"
        raise TenantError(
            f"role {user} may only read here: it cannot {what}. Apply with the writer "
            "role (the apply job's PGUSER; see docs/providers.md, 'Least privilege'); "
            "nothing was changed")


def _answer(connection: psycopg.Connection, query: str, *arguments: object) -> bool:
    row = connection.execute(query, arguments or None).fetchone()
    return bool(row and row[0])
