"""The embedded tenant's refusals in a user's words, naming the member, seat or licence.

Our triggers already speak ("portal: no seat left on this package"); SQLite's
own constraint messages do not. Either way the tenant is asked, after the
refused step was rolled back, which member, package or licence it was about.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from schema.kinds import can_be_member
from schema.state import Fields, ResourceKey

_MEANINGS = {
    "UNIQUE constraint failed: users.extension": "the extension is already taken",
    "UNIQUE constraint failed: shared_lines.number": "the number is already taken",
}


def explain(error: sqlite3.Error, connection: sqlite3.Connection, key: ResourceKey | None,
            fields: Fields) -> str:
    text = str(error).removeprefix("portal: ")
    try:
        if text == "FOREIGN KEY constraint failed":
            return _membership(connection, key, fields)
        if text == "no seat left on this package":
            return _seat(connection, key, fields)
        if text == "no shared-line licence left":
            used, allowed = connection.execute(
                "SELECT shared_lines_used, shared_line_licences FROM tenant_facts").fetchone()
            return f"no shared-line licence left ({used} of {allowed} in use)"
    except sqlite3.Error:
        pass  # the plain words below are still true
    if text.startswith("UNIQUE constraint failed: ") and text not in _MEANINGS:
        column = text.rsplit(".", 1)[-1]
        return f"the {column} is already used by another resource"
    return _MEANINGS.get(text, text)


def _membership(connection: sqlite3.Connection, key: ResourceKey | None,
                fields: Fields) -> str:
    members: dict[str, Any] = fields.get("members") or {}
    missing = [ext for ext in members if connection.execute(
        "SELECT 1 FROM users WHERE extension = ?", (ext,)).fetchone() is None]
    if missing:
        return (f"member(s) {', '.join(missing)} of {key} are not users of the tenant; create "
                "them first")
    if key is not None and can_be_member(key.kind):
        lines = [row[0] for row in connection.execute(
            "SELECT shared_line FROM shared_line_members WHERE extension = ? ORDER BY 1",
            (key.number,))]
        if lines:
            return (f"{key} still belongs to shared line(s) {', '.join(lines)}; it must leave "
                    "them first")
    return ("a shared-line member is not a user of the tenant, or a user still belongs to a "
            "shared line")


def _seat(connection: sqlite3.Connection, key: ResourceKey | None, fields: Fields) -> str:
    package = fields.get("package")
    row = connection.execute("SELECT used, seats FROM packages WHERE name = ?",
                             (package,)).fetchone()
    if row is None:
        return "no seat left on this package"
    return f"no seat left on package '{package}' ({row[0]} of {row[1]} seats in use)"
