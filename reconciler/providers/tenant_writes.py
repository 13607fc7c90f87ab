"""Writing a tenant: each write as the SQL both engines speak alike (the embedded SQLite
file and a PostgreSQL schema). The provider wraps each in one transaction and turns
its engine's errors, and `Refused`, into the user's words.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from reconciler.providers.lock_holders import now
from reconciler.providers.password_hashing import hash_password
from reconciler.providers.tenant_tables import (
    COPIED,
    ChecksRowsInServer,
    Database,
    Table,
    TenantDump,
    table_for,
)
from schema.fields import version_tuple
from schema.state import Fields, NewPassword, ResourceKey, TenantFacts


class Refused(Exception):
    """The tenant will not do it; `str()` says why in a user's words."""


def create(db: Database, key: ResourceKey, fields: Fields, password: NewPassword | None
           ) -> None:
    table = table_for(key.kind)
    # The identity is given here; the tenant's trigger gives one only to resources made
    # without it (by hand), and an extra UPDATE per create made apply 1.5x slower.
    values = {table.id_column: key.number, "site": key.site, "managed": 1,
              "uid": uuid.uuid4().hex, **_column_values(fields, table, password)}
    if table.holds_kinds:
        values["kind"] = key.kind.value
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", tuple(values.values()))
    if "members" in fields:
        _set_members(db, key, fields["members"])


def update(db: Database, key: ResourceKey, fields: Fields, password: NewPassword | None,
           adopt: bool) -> None:
    table = table_for(key.kind)
    values = _column_values(fields, table, password)
    if adopt:
        values["managed"] = 1
    if values:
        _update(db, key, values)
    if "members" in fields:
        _set_members(db, key, fields["members"])


def renumber(db: Database, key: ResourceKey, number: str, heading_for: str | None) -> None:
    """Give a resource a new number. With `heading_for`, the new number is a temporary
    one: the journal remembers where the resource is going. The number it came from is
    kept across a stop on a temporary number. Written without reading first, so the
    statements need no answer before the commit."""
    table = table_for(key.kind)
    where, arguments = _where(key)
    _change_one(db, f"UPDATE {table.name} SET {table.id_column} = ?, renumbered_from = "
                    f"CASE WHEN uid IN (SELECT uid FROM parked) THEN renumbered_from ELSE ? END "
                    f"WHERE {where}", (number, key.number, *arguments), key)
    now_where, now_arguments = _where(key._replace(number=number))
    moved = f"(SELECT uid FROM {table.name} WHERE {now_where})"
    db.execute(f"DELETE FROM parked WHERE uid = {moved}", now_arguments)
    if heading_for is not None:
        db.execute(f"INSERT INTO parked (uid, heading_for) SELECT uid, ? FROM {table.name} "
                   f"WHERE {now_where}", (heading_for, *now_arguments))


def delete(db: Database, key: ResourceKey) -> None:
    where, arguments = _where(key)
    _change_one(db, f"DELETE FROM {table_for(key.kind).name} WHERE {where}", arguments, key)


def begin_journal(db: Database, plan_checksum: str, total_steps: int, started_by: str) -> None:
    """Record the apply about to start; it replaces the journal of one that stopped."""
    db.execute("DELETE FROM apply_journal")
    db.execute("INSERT INTO apply_journal (id, plan_checksum, total_steps, steps_done, "
               "started_at, started_by) VALUES (1, ?, ?, 0, ?, ?)",
               (plan_checksum, total_steps, now(), started_by))


def step_journal(db: Database, step: int) -> None:
    db.execute("UPDATE apply_journal SET steps_done = ?", (step,))


def finish_journal(db: Database) -> None:
    db.execute("DELETE FROM apply_journal")


def record_identity(db: Database, name: str) -> None:
    """Whose tenant this is, if it does not say yet."""
    if db.execute("SELECT count(*) FROM tenant_identity").fetchone()[0] == 0:
        db.execute("INSERT INTO tenant_identity (id, name, tenant_id, created_at) "
                   "VALUES (1, ?, ?, ?)", (name, uuid.uuid4().hex, now()))


def identity_name(db: Database) -> str | None:
    held = db.execute("SELECT name FROM tenant_identity").fetchone()
    return None if held is None else str(held[0])


def claim(db: Database, name: str, description: str) -> None:
    """Record whose an older tenant is, once: refused if it says already."""
    held = db.execute("SELECT name FROM tenant_identity").fetchone()
    if held is not None:
        raise Refused(f"tenant {description} already records that it is {json.dumps(held[0])}'s;"
                      " nothing was changed (to change the name: reconcile tenant rename)")
    record_identity(db, name)


def rename(db: Database, old: str, new: str, description: str) -> None:
    held = db.execute("SELECT name FROM tenant_identity").fetchone()
    if held is None or held[0] != old:
        raise Refused(f"tenant {description} holds {json.dumps(held[0] if held else None)}, "
                      f"not {json.dumps(old)}; nothing was renamed")
    db.execute("UPDATE tenant_identity SET name = ?", (new,))


def restore(db: Database, rows: TenantDump) -> None:
    """Fill a tenant just created (schema only) with a copy's rows, its identity
    replacing the one the creation recorded: a copy is the same tenant, moved."""
    db.execute("DELETE FROM tenant_identity")
    for table, columns in COPIED.items():
        marks = ", ".join("?" for _ in columns)
        if rows.get(table):
            db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                           rows[table])


def write_facts(db: Database, facts: TenantFacts) -> None:
    """Record the tenant's platform, licences and packages (a new tenant's, or what was
    bought since); refused if the tenant already uses more than they allow."""
    db.execute(
        "INSERT INTO tenant_facts (id, platform_version, platform_major, shared_line_licences, "
        "shared_licensing) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "platform_version = excluded.platform_version, platform_major = excluded.platform_major, "
        "shared_line_licences = excluded.shared_line_licences, "
        "shared_licensing = excluded.shared_licensing",
        (facts.platform_version, version_tuple(facts.platform_version)[0],
         facts.shared_line_licences, int(facts.shared_licensing)))
    for rank, (name, seats) in enumerate(facts.packages.items()):
        db.execute("INSERT INTO packages (name, seats, rank) VALUES (?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE "
                   "SET seats = excluded.seats, rank = excluded.rank", (name, seats, rank))
    names = list(facts.packages)
    db.execute(f"DELETE FROM packages WHERE name NOT IN "
               f"({', '.join('?' for _ in names) or 'NULL'})", names)
    check_counts(db)


def check_counts(db: Database) -> None:
    """Refuse a tenant that uses more seats or shared-line licences than it has."""
    over = db.execute("SELECT name, seats, used FROM packages WHERE used > seats").fetchone()
    if over:
        raise Refused(f"package {over[0]} would have {over[1]} seats for {over[2]} users")
    lines, licences = db.execute("SELECT (SELECT count(*) FROM shared_lines), "
                                 "shared_line_licences FROM tenant_facts").fetchone()
    if lines > licences:
        raise Refused(f"{lines} shared lines exist, more than {licences} licences")


def _column_values(fields: Fields, table: Table, password: NewPassword | None
                   ) -> dict[str, Any]:
    values = {name: fields[name] for name in table.columns if name in fields}
    for name in table.booleans:
        if name in values:
            values[name] = int(values[name])
    if "devices" in fields:
        values["devices"] = json.dumps(fields["devices"])
    if password is not None:
        values["password_hash"] = password.hashed or hash_password(password.value)
        values["password_from"] = password.source
    return values


def _set_members(db: Database, key: ResourceKey, members: dict[str, dict[str, Any]]) -> None:
    """A line's members, whole: each row names its line by number, and the table that
    holds it (one members table for every kind with members)."""
    number, held_by = key.number, table_for(key.kind).name
    db.execute("DELETE FROM members WHERE line = ?", (number,))
    db.executemany(
        "INSERT INTO members (line, line_held_by, extension, button, ring_delay) "
        "VALUES (?, ?, ?, ?, ?)",
        [(number, held_by, extension, member["button"], member["ring_delay"])
         for extension, member in members.items()])


def _where(key: ResourceKey) -> tuple[str, tuple[str, ...]]:
    """Match a resource by its whole key: number, site and (in a shared table) kind."""
    table = table_for(key.kind)
    if table.holds_kinds:
        return (f"{table.id_column} = ? AND site = ? AND kind = ?",
                (key.number, key.site, key.kind.value))
    return f"{table.id_column} = ? AND site = ?", (key.number, key.site)


def _update(db: Database, key: ResourceKey, values: dict[str, Any]) -> None:
    setters = ", ".join(f"{name} = ?" for name in values)
    where, arguments = _where(key)
    _change_one(db, f"UPDATE {table_for(key.kind).name} SET {setters} WHERE {where}",
                (*values.values(), *arguments), key)


def _change_one(db: Database, statement: str, arguments: tuple[Any, ...],
                key: ResourceKey) -> None:
    """Run an UPDATE or DELETE that must find the resource. A server that can check the
    count itself does, so the step waits for no answer before its commit."""
    missing = f"{key} does not exist in the tenant"
    if isinstance(db, ChecksRowsInServer):
        db.change_one(statement, arguments, missing)
    elif db.execute(statement, arguments).rowcount != 1:
        raise Refused(missing)
