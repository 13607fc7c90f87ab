"""Which column of a List Download holds which field: headers matched as configured.

Headers are compared ignoring case and spaces ("E-Mail", "e-mail " and "E-mail"
are one). Columns that no field names are carried along: a real export has many
(Update Time, ...). A missing required column, or a header written twice, is an
error naming it: reading the wrong column would compare the wrong values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.providers.list_download.workbook import Sheet, SpreadsheetError, column_letter
from schema.list_download_settings import EDITABLE, REQUIRED, ListDownloadSettings


def normal(header: object) -> str:
    return "".join(str(header).split()).casefold() if header is not None else ""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    #: field -> index of its column
    by_field: dict[str, int]
    #: every header as written, by index ("" for a blank one)
    headers: tuple[str, ...]
    #: indexes of columns the upload may write (name, e-mail, password; not locked)
    writable: frozenset[int]

    def field_of(self, index: int) -> str | None:
        return next((name for name, at in self.by_field.items() if at == index), None)


def map_columns(path: Path, sheet: Sheet, settings: ListDownloadSettings) -> ColumnMap:
    headers = tuple("" if cell.value is None else str(cell.value).strip()
                    for cell in sheet.header)
    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normal(header)
        if not key:
            continue
        if key in seen:
            raise SpreadsheetError(
                f"{path}: header {header!r} is written twice ({sheet.name}!"
                f"{column_letter(seen[key])}1 and {sheet.name}!{column_letter(index)}1); "
                "rename one, so that each field is read from one column")
        seen[key] = index
    by_field = {name: seen[normal(header)] for name, header in settings.headers().items()
                if normal(header) in seen}
    locked = {normal(header) for header in settings.locked}
    writable = frozenset(by_field[name] for name in EDITABLE
                         if name in by_field and normal(headers[by_field[name]]) not in locked)
    return ColumnMap(by_field, headers, writable)


def require_columns(path: Path, sheet: Sheet, columns: ColumnMap,
                    settings: ListDownloadSettings) -> None:
    """Extension and name must be there: without them no row is a user."""
    missing = [name for name in REQUIRED if name not in columns.by_field]
    if missing:
        wanted = settings.headers()
        found = ", ".join(repr(h) for h in columns.headers if h) or "none"
        raise SpreadsheetError(
            f"{path}: no {' or '.join(repr(wanted.get(name, name)) for name in missing)} "
            f"column in row 1 of sheet {sheet.name!r} (headers found: {found}); name the "
            f"header in tenant.yaml: list_download: {{columns: {{{missing[0]}: \"...\"}}}}, "
            f"or see `reconcile list-download inspect {path}`")


def describe_columns(columns: ColumnMap, sheet: Sheet) -> list[str]:
    """One line per column, for `reconcile list-download inspect`."""
    lines = []
    for index, header in enumerate(columns.headers):
        name = columns.field_of(index)
        where = f"{sheet.name}!{column_letter(index)}1"
        if name is None:
            role = "carried along, not compared" if header else "blank header, carried along"
        elif name == "password":
            role = "password (never read; written by the upload file)"
        elif name == "user_type":
            role = "user_type (carried, not compared: derived from the devices)"
        else:
            role = name
        access = "editable" if index in columns.writable else "locked"
        lines.append(f"  {where:<12} {header or '(blank)'!r:<28} -> {role} [{access}]")
    return lines
