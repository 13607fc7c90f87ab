"""A tenant's refusal in a user's words, naming the member, seat or licence concerned.

Both engines report the same refusals (our triggers' "portal: ..." messages, a
missing member, a duplicate value); the provider normalises its engine's error
into `message` (as SQLite words it), and the tenant is asked, after the refused
step was rolled back, which member, package or licence it was about.
"""

from __future__ import annotations

from typing import Any

from reconciler.providers.tenant_tables import Database
from schema.state import Fields, ResourceKey

FOREIGN_KEY = "FOREIGN KEY constraint failed"
_MEANINGS = {
    "UNIQUE constraint failed: users.extension": "the extension is already taken",
    "UNIQUE constraint failed: shared_lines.number": "the number is already taken",
}


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
            "SELECT shared_line FROM shared_line_members WHERE extension = ? ORDER BY 1",
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
