"""A tenant's refusal in a user's words, naming the member, seat or licence concerned.

Both engines report the same refusals (our triggers' "portal: ..." messages, a
missing member, a duplicate value); the provider normalises its engine's error
into `message` (as SQLite words it), and the tenant is asked, after the refused
step was rolled back, which member, package or licence it was about.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reconciler.providers.tenant_tables import TABLES, Database
from schema.fields import Button, RingDelay
from schema.state import Fields, ResourceKey

FOREIGN_KEY = "FOREIGN KEY constraint failed"
CHECK = "CHECK constraint failed: "
#: The portal's limit on each column a CHECK guards, in a user's words. Reached only
#: when something bypasses validation (which holds every value to the same limits):
#: a tenant stricter than this model, or a third-party writer.
_LIMITS = {
    "extension": "2 to 5 digits",
    "number": "2 to 5 digits",
    "name": "not blank",
    "group_member_type": "single_site or multi_site",
    "devices": "at least one device for a user, none for a hot desk user",
    "mac": "12 hexadecimal digits, and only for a user with a desk phone",
    "password_rotation": "0 or more",
    "button": "1 or more",
    "ring_delay": "0 to 30 seconds in steps of 3",
}
#: A member's options the tenant checks, typed as validate types them: only the members
#: whose value validate would refuse too are named.
_MEMBER_OPTIONS: dict[str, Any] = {"button": Button | None, "ring_delay": RingDelay}
_IDENTIFIER = re.compile(r"[a-z_]+")
#: A number taken twice in its own kind's table (another kind's: the `numbers` table's
#: triggers say which kind holds it).
_MEANINGS = {f"UNIQUE constraint failed: {table.name}.{table.id_column}":
             f"the {table.id_column} is already taken" for table in TABLES.values()}


def explain(message: str, db: Database, key: ResourceKey | None, fields: Fields) -> str:
    text = message.removeprefix("portal: ")
    try:
        if text == FOREIGN_KEY:
            return _membership(db, key, fields)
        if text == "no seat left on this package":
            return _seat(db, fields)
        if text == "no shared-line licence left":
            used, allowed = db.execute(
                "SELECT shared_lines_used, shared_line_licences FROM tenant_facts").fetchone()
            return f"no shared-line licence left ({used} of {allowed} in use)"
    except Exception:
        pass
    if text.startswith(CHECK):
        return _limit(text.removeprefix(CHECK), key, fields) or text
    if text.startswith("UNIQUE constraint failed: ") and text not in _MEANINGS:
        column = text.rsplit(".", 1)[-1]
        return f"the {column} is already used by another resource"
    return _MEANINGS.get(text, text)


def _membership(db: Database, key: ResourceKey | None, fields: Fields) -> str:
    members: dict[str, Any] = fields.get("members") or {}
    missing = [ext for ext in members if db.execute(
        "SELECT 1 FROM users WHERE extension = ?", (ext,)).fetchone() is None]
    if missing:
        return (f"member(s) {', '.join(missing)} of {key} are not users of the tenant; create "
                "them first")
    if key is not None:
        lines = [row[0] for row in db.execute(
            "SELECT line FROM members WHERE extension = ? ORDER BY 1",
            (key.number,))]
        if lines:
            return (f"{key} still belongs to shared line(s) {', '.join(lines)}; it must leave "
                    "them first")
    return ("a shared-line member is not a user of the tenant, or a user still belongs to a "
            "shared line")


def _seat(db: Database, fields: Fields) -> str:
    package = fields.get("package")
    row = db.execute("SELECT used, seats FROM packages WHERE name = ?", (package,)).fetchone()
    if row is None:
        return "no seat left on this package"
    return f"no seat left on package '{package}' ({row[0]} of {row[1]} seats in use)"


def _check_column(expression: str) -> str | None:
    """The column a CHECK guards, from its expression (SQLite's words) or its name (a
    PostgreSQL constraint's, with the table's prefix removed)."""
    words: list[str] = _IDENTIFIER.findall(expression)
    return next((word for word in words if word in _LIMITS), None)


def _limit(expression: str, key: ResourceKey | None, fields: Fields) -> str | None:
    column = _check_column(expression)
    if column is None:
        return None
    if key is not None and column in ("extension", "number"):
        values = [repr(key.number)]  # a number is the key, not a field
    else:
        values = _values_of(column, fields)
    asked = f" ({', '.join(values)} asked)" if values else ""
    return (f"{column} is outside the portal's limits: {_LIMITS[column]}{asked}; "
            "correct it in the config")


def _values_of(column: str, fields: Fields) -> list[str]:
    """What the refused step asked for that column: the field itself, or the members'
    values outside the limit (a shared line's members carry a button and ring delay)."""
    if column in fields:
        return [repr(fields[column])]
    members = fields.get("members")
    if not isinstance(members, dict) or column not in _MEMBER_OPTIONS:
        return []
    option = TypeAdapter(_MEMBER_OPTIONS[column])
    return [f"member {extension}: {options[column]!r}" for extension, options in members.items()
            if isinstance(options, dict) and column in options
            and not _valid(option, options[column])]


def _valid(option: TypeAdapter[Any], value: Any) -> bool:
    try:
        option.validate_python(value)
    except ValidationError:
        return False
    return True
