"""How the embedded tenant's file keeps each kind of resource: tables and columns."""

from __future__ import annotations

from dataclasses import dataclass

from schema.kinds import describe
from schema.state import Kind

USER_COLUMNS = (
    "name", "package", "portal_id", "email", "direct_dial_number", "call_barring",
    "outgoing_caller_id", "group_member_type", "aad_id", "mac", "password_rotation",
)
LINE_COLUMNS = ("direct_dial_number", "autodial_digit", "forward_to_vm", "description")



@dataclass(frozen=True, slots=True)
class Table:
    """How the file keeps one table of resources (which kinds use it: `schema.kinds`)."""

    name: str
    id_column: str
    columns: tuple[str, ...]
    #: several kinds share the table; a `kind` column tells them apart
    holds_kinds: bool


TABLES = {table.name: table for table in (
    Table("users", "extension", USER_COLUMNS, holds_kinds=True),
    Table("shared_lines", "number", LINE_COLUMNS, holds_kinds=False))}


def table_for(kind: Kind) -> Table:
    return TABLES[describe(kind).table]


