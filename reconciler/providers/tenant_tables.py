"""The tenant's tables, as both engines keep them (the embedded SQLite file and a
PostgreSQL schema): which table holds each kind, its columns, and reading the whole
state in one pass per table. The SQL here is what both engines speak alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from schema.devices import in_portal_order
from schema.kinds import describe, has_members
from schema.state import (
    Fields,
    Kind,
    ResourceKey,
    TenantFacts,
    TenantIdentity,
    TenantState,
    UnfinishedApply,
)


class Database(Protocol):
    """A connection: sqlite3's as it is, psycopg's through a thin adapter (`?` marks).
    `execute` returns a cursor: iterable, with `fetchone()` and `rowcount`."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


@runtime_checkable
class ChecksRowsInServer(Protocol):
    """A connection that checks in the server that an UPDATE or DELETE changed exactly
    one row, failing the transaction with `missing` if not: the check needs no answer
    sent back before the commit (PostgreSQL's pipeline). Others count rows in Python."""

    def change_one(self, sql: str, parameters: tuple[Any, ...], missing: str) -> None: ...


USER_COLUMNS = (
    "name", "package", "portal_id", "email", "direct_dial_number", "call_barring",
    "outgoing_caller_id", "group_member_type", "aad_id", "mac", "password_rotation",
)
LINE_COLUMNS = ("direct_dial_number", "autodial_digit", "forward_to_vm", "description")



@dataclass(frozen=True, slots=True)
class Table:
    """How the tenant keeps one table of resources (which kinds use it: `schema.kinds`).
    Every table's numbers are also rows of `numbers`, held_by its name, and the members
    of its lines rows of `members` (schema 5)."""

    name: str
    id_column: str
    #: the managed fields it stores, each a column of the same name
    columns: tuple[str, ...]
    #: several kinds share the table; a `kind` column tells them apart
    holds_kinds: bool
    #: fields stored as 0 and 1, read back as false and true
    booleans: tuple[str, ...] = ()
    #: columns a copy of the tenant carries besides the fields (`COPIED`)
    stored: tuple[str, ...] = ()
    #: the schema version that made it: an older PostgreSQL tenant, read as it is, has
    #: none of it (a new kind's table comes with a new version)
    since: int = 3

    @property
    def copied(self) -> tuple[str, ...]:
        marks = ("managed", "uid", "renumbered_from")
        return (self.id_column, "site", *(("kind",) if self.holds_kinds else ()),
                *self.columns, *self.stored, *marks)


TABLES = {table.name: table for table in (
    Table("users", "extension", USER_COLUMNS, holds_kinds=True,
          stored=("devices", "password_hash", "password_from")),
    Table("shared_lines", "number", LINE_COLUMNS, holds_kinds=False,
          booleans=("forward_to_vm",)),
)}


def table_for(kind: Kind) -> Table:
    return TABLES[describe(kind).table]


#: The kind a table of one kind holds.
_KIND_OF_TABLE = {describe(kind).table: kind for kind in Kind
                  if not TABLES[describe(kind).table].holds_kinds}


_KIND_OF_VALUE = {kind.value: kind for kind in Kind}  # Kind(text) costs a microsecond a row


#: From this schema version on, the members of every kind's lines are one table, and
#: every number is in `numbers` (sqlite_schema_5.sql, pg_schema_5.sql). A PostgreSQL
#: tenant is read as it is until it is migrated (an SQLite one, through a migrated copy).
MEMBERS_SINCE = 5
MEMBER_COLUMNS = ("line", "line_held_by", "extension", "button", "ring_delay")


def _members_of(schema_version: int) -> str:
    """The members' rows, in this version's shape, from a tenant of `schema_version`
    (before 5: shared lines' members only, in a table of their own)."""
    if schema_version >= MEMBERS_SINCE:
        return f"SELECT {', '.join(MEMBER_COLUMNS)} FROM members"
    return ("SELECT shared_line, 'shared_lines', extension, button, ring_delay "
            "FROM shared_line_members")


def read_state(connection: Database, schema_version: int = MEMBERS_SINCE) -> TenantState:
    """The whole state, one pass per table, as a tenant of `schema_version` keeps it."""
    state = TenantState(facts=read_facts(connection), identity=read_identity(connection),
                        unfinished=read_journal(connection))
    by_uid: dict[str, ResourceKey] = {}
    columns = ", ".join(USER_COLUMNS)
    query = ("SELECT site, kind, extension, devices, managed, uid, renumbered_from, "
             f"password_from, {columns} FROM users")
    # Most users share a handful of device combinations: each stored text is read once.
    devices: dict[str, list[str]] = {}
    for row in connection.execute(query):
        kind = _KIND_OF_VALUE[row[1]]
        fields: Fields = dict(zip(USER_COLUMNS, row[8:], strict=True))
        if kind is Kind.USER:
            known = devices.get(row[3])
            if known is None:
                known = devices[row[3]] = in_portal_order(json.loads(row[3]))
            fields["devices"] = list(known)
        else:
            del fields["mac"]
        key = ResourceKey(row[0], kind, row[2])
        _keep(state, by_uid, key, fields, row[4:7])
        if row[7] is not None:
            state.password_from[key] = row[7]
    members: dict[str, dict[str, dict[str, Any]]] = {}
    for line, _, extension, button, delay in connection.execute(_members_of(schema_version)):
        members.setdefault(line, {})[extension] = {"button": button, "ring_delay": delay}
    for table in TABLES.values():
        if not table.holds_kinds and table.since <= schema_version:
            _read_one_kind(connection, table, members, state, by_uid)
    for uid, heading_for in connection.execute("SELECT uid, heading_for FROM parked"):
        if uid in by_uid:
            state.parked[by_uid[uid]] = heading_for
    return state


def _read_one_kind(connection: Database, table: Table,
                   members: dict[str, dict[str, dict[str, Any]]], state: TenantState,
                   by_uid: dict[str, ResourceKey]) -> None:
    """A table holding one kind (every table but users'), read as its fields say."""
    kind = _KIND_OF_TABLE[table.name]
    with_members = has_members(kind)
    columns = ", ".join(table.columns)
    query = (f"SELECT site, {table.id_column}, managed, uid, renumbered_from, {columns} "
             f"FROM {table.name}")
    for row in connection.execute(query):
        fields = dict(zip(table.columns, row[5:], strict=True))
        for name in table.booleans:
            fields[name] = bool(fields[name])
        if with_members:
            fields["members"] = members.get(row[1], {})
        _keep(state, by_uid, ResourceKey(row[0], kind, row[1]), fields, row[2:5])


def _keep(state: TenantState, by_uid: dict[str, ResourceKey], key: ResourceKey,
          fields: Fields, marks: tuple[Any, ...]) -> None:
    managed, uid, renumbered_from = marks
    state.resources[key] = fields
    state.uids[key] = uid
    by_uid[uid] = key
    if managed:
        state.managed.add(key)
    if renumbered_from is not None:
        state.renumbered_from[key] = renumbered_from


def read_facts(connection: Database) -> TenantFacts | None:
    row = connection.execute(
        "SELECT platform_version, shared_line_licences, shared_licensing FROM tenant_facts"
    ).fetchone()
    if row is None:
        return None
    packages = dict(connection.execute("SELECT name, seats FROM packages ORDER BY rank"))
    return TenantFacts(row[0], row[1], bool(row[2]), packages)


def read_identity(connection: Database) -> TenantIdentity | None:
    row = connection.execute(
        "SELECT name, tenant_id, created_at FROM tenant_identity").fetchone()
    return TenantIdentity(*row) if row else None


def read_journal(connection: Database) -> UnfinishedApply | None:
    row = connection.execute(
        "SELECT plan_checksum, steps_done, total_steps, started_at, started_by "
        "FROM apply_journal").fetchone()
    return UnfinishedApply(*row) if row else None


def bookkeeping_problems(connection: Database) -> list[str]:
    """What is wrong with the tenant's own counters, identities and journal: the same
    checks whatever engine keeps it (each provider adds its storage's own)."""
    problems: list[str] = []
    problems += [f"package {name} counts {used} users but has {actual}" for name, used, actual
                 in connection.execute(
                     "SELECT p.name, p.used, (SELECT count(*) FROM users u "
                     "WHERE u.package = p.name) AS actual FROM packages p WHERE p.used <> "
                     "(SELECT count(*) FROM users u WHERE u.package = p.name)")]
    problems += [f"{used} shared lines counted, {actual} exist" for used, actual in
                 connection.execute("SELECT shared_lines_used, (SELECT count(*) FROM "
                                    "shared_lines) FROM tenant_facts WHERE shared_lines_used <> "
                                    "(SELECT count(*) FROM shared_lines)")]
    every_uid = " UNION ALL ".join(f"SELECT uid FROM {name}" for name in TABLES)
    problems += [f"identity {uid} is held by two resources" for (uid,) in connection.execute(
        f"SELECT uid FROM ({every_uid}) AS ids GROUP BY uid HAVING count(*) > 1")]
    held = " UNION ALL ".join(f"SELECT {t.id_column} AS number, '{t.name}' AS held_by "
                              f"FROM {t.name}" for t in TABLES.values())
    problems += [f"number {number} is recorded as held by {held_by}, which does not hold it"
                 for number, held_by in connection.execute(
                     f"SELECT number, held_by FROM numbers EXCEPT "
                     f"SELECT number, held_by FROM ({held}) AS held")]
    problems += [f"number {number} is held but not recorded in the numbering plan"
                 for (number,) in connection.execute(
                     f"SELECT number FROM ({held}) AS held EXCEPT SELECT number FROM numbers")]
    if connection.execute("SELECT count(*) FROM tenant_identity").fetchone()[0] != 1:
        problems.append("the tenant does not record whose it is")
    if connection.execute("SELECT count(*) FROM apply_journal").fetchone()[0] == 0:
        problems += [f"resource {uid} is parked on a temporary number, but no apply is "
                     "unfinished" for (uid,) in connection.execute("SELECT uid FROM parked")]
    return problems


#: What a copy of a tenant carries, table by table, in the order it is restored
#: (counters are not copied: the tenant's own triggers count as rows arrive).
COPIED: dict[str, tuple[str, ...]] = {
    "tenant_identity": ("id", "name", "tenant_id", "created_at"),
    "tenant_facts": ("id", "platform_version", "platform_major", "shared_line_licences",
                     "shared_licensing"),
    "packages": ("name", "seats", "rank"),
    **{table.name: table.copied for table in TABLES.values()},
    "members": MEMBER_COLUMNS,
    "apply_journal": ("id", "plan_checksum", "total_steps", "steps_done", "started_at",
                      "started_by"),
    "parked": ("uid", "heading_for"),
}
TenantDump = dict[str, list[tuple[Any, ...]]]


def dump(connection: Database, schema_version: int = MEMBERS_SINCE) -> TenantDump:
    """Every row a copy needs, password hashes and identities included, in this
    version's shape whatever the tenant's own (`numbers` is the tenant's to fill)."""
    absent = {name for name, table in TABLES.items() if table.since > schema_version}

    def rows(table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
        if table in absent:
            return []
        query = (_members_of(schema_version) if table == "members" else
                 f"SELECT {', '.join(columns)} FROM {table}")
        query += " ORDER BY 1"
        return [tuple(row) for row in connection.execute(query)]

    return {table: rows(table, columns) for table, columns in COPIED.items()}
