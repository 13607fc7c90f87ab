"""Acting on the local tenant as the portal would, behind the reconciler's back."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def mark_unmanaged(db: Path, *numbers: str) -> None:
    """As if these were made by hand in the portal: no reconciler marker."""
    with sqlite3.connect(db) as connection:
        for number in numbers:
            connection.execute("UPDATE users SET managed = 0 WHERE extension = ?", (number,))
            connection.execute("UPDATE shared_lines SET managed = 0 WHERE number = ?", (number,))


def portal_edit(db: Path, sql: str, *arguments: object) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(sql, arguments)
