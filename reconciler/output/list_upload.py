"""`plan --format list-upload --out edits.xlsx`: the downloaded List Download with only
its editable cells changed, to upload back in User Setup.

The portal lets the upload change names, portal passwords and e-mails; every other
column is locked (FACTS.md rule 21). So the file written is the file downloaded:
the same sheets, rows, order, columns and styles, with only those cells of the
planned updates rewritten. Every other change of the plan (creates, deletes,
renumbers, other fields, anything in a locked column) is listed as left to the
runbook.

Passwords are read from their references here, at the last moment, and only into
the file, which is then created readable by its owner only: it must never become a
CI artifact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from reconciler.loading import secrets
from reconciler.output.output_files import write_output
from reconciler.plans import Action, Change, Plan
from reconciler.providers.list_download import ListDownloadTenant
from reconciler.providers.list_download.columns import ColumnMap
from reconciler.providers.list_download.workbook import csv_dialect
from reconciler.runtime.errors import ReconcilerError
from schema.state import Kind

#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class Upload:
    path: Path
    #: (sheet row number, column index) -> the new value
    edits: dict[tuple[int, int], str] = field(default_factory=dict)
    edited: set[str] = field(default_factory=set)  # extensions whose row changed
    passwords: int = 0
    left: list[str] = field(default_factory=list)  # changes for the runbook


def write_upload(plan: Plan, provider: ListDownloadTenant, out: Path,
                 secret_prefix: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Upload:
    layout, source = provider.layout(), provider.path
    if out.resolve() == source.resolve():
        raise ReconcilerError(f"--out {out} is the downloaded file itself; write the upload "
                              "file beside it, under another name")
    if not provider.unchanged_since_read():
        raise ReconcilerError(f"{source} changed while it was being planned; plan again, "
                              "so that the upload is made from the file the plan compared")
    # Refusals first: passwords are read only for a file that will be written.
    upload = _edits(plan, layout.rows, layout.columns, out, secret_prefix, environ)
    if source.suffix.lower() == ".csv":
        content = _csv_bytes(source, upload)
    else:
        content = _xlsx_bytes(source, layout.sheet, upload)
    # With passwords, readable by the owner only from the moment it exists.
    write_output(out, lambda handle: _write_all(handle, content), "upload file",
                 private=upload.passwords > 0, durable=True)
    return upload


def _edits(plan: Plan, rows: Mapping[str, int], columns: ColumnMap, out: Path,
           secret_prefix: str | None, environ: Mapping[str, str] | None) -> Upload:
    """`rows`: each extension's row, as the tenant read it (zeros restored)."""
    upload = Upload(out)
    refs = [c.password for c in plan.changes if c.password is not None
            and _carried(c, rows) and "password" in columns.by_field
            and columns.by_field["password"] in columns.writable]
    passwords = secrets.resolve(refs, environ, secret_prefix)
    for change in plan.changes:
        if not _carried(change, rows):
            upload.left.append(f"{change.label} {change.key} ({change.key.site})")
            continue
        row = rows[change.key.number]
        kept: list[str] = []
        for name, value in change.fields.items():
            index = columns.by_field.get(name)
            if index is None or index not in columns.writable:
                kept.append(name)
            elif value is not None and str(value).startswith(_FORMULA_STARTS):
                kept.append(f"{name} (starts with {str(value)[0]!r}, which a spreadsheet "
                            "would run as a formula)")
            else:
                upload.edits[(row, index)] = "" if value is None else str(value)
                upload.edited.add(change.key.number)
        if change.password is not None:
            index = columns.by_field.get("password")
            if index is None or index not in columns.writable:
                kept.append("password")
            elif passwords[change.password].startswith(_FORMULA_STARTS):
                # The same guard as any value, said without a character of the secret.
                kept.append("password (starts with a character a spreadsheet would run "
                            "as a formula)")
            else:
                upload.edits[(row, index)] = passwords[change.password]
                upload.edited.add(change.key.number)
                upload.passwords += 1
        if kept:
            upload.left.append(f"update {change.key} ({change.key.site}): "
                               f"{', '.join(kept)}")
    return upload


def _carried(change: Change, rows: Mapping[str, int]) -> bool:
    """An update of a user or hot desk user in the file: the only change an upload can
    carry (in part)."""
    return (change.action is Action.UPDATE and change.key.kind in
            (Kind.USER, Kind.HOT_DESK_USER) and change.key.number in rows)


def _xlsx_bytes(source: Path, sheet: str, upload: Upload) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(source, keep_links=False)
    worksheet = workbook[sheet]
    for (row, index), value in upload.edits.items():
        cell = worksheet.cell(row=row, column=index + 1)
        cell.value = value
        cell.data_type = "s"  # text, never a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_bytes(source: Path, upload: Upload) -> bytes:
    """The CSV with only the edited records rewritten: every other record keeps its
    bytes exactly (its quoting, its line ending), so a diff of the two files shows
    the edits and nothing else."""
    raw = source.read_bytes()
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    text = raw.decode("utf-8-sig")
    dialect = csv_dialect(text)  # the reader's own: what is written reads back the same
    by_row: dict[int, dict[int, str]] = {}
    for (row, index), value in upload.edits.items():
        by_row.setdefault(row, {})[index] = value
    out = io.StringIO(newline="")
    for number, (fields, record) in enumerate(_records(text, dialect), start=1):
        edits = by_row.get(number)
        if edits is None:
            out.write(record)
            continue
        for index, value in edits.items():
            fields[index] = value
        ending = "\r\n" if record.endswith("\r\n") else "\n" if record.endswith("\n") else ""
        csv.writer(out, dialect, lineterminator=ending).writerow(fields)
    return (bom + out.getvalue()).encode()


def _records(text: str, dialect: Any) -> Iterator[tuple[list[str], str]]:
    """Each CSV record with the exact text it was read from (a quoted field may hold
    line breaks, so a record can span lines)."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):  # as csv asks files to be opened
            consumed.append(line)
            yield line

    for fields in csv.reader(lines(), dialect):
        yield fields, "".join(consumed)
        consumed.clear()


def _write_all(handle: BinaryIO, content: bytes) -> None:
    handle.write(content)
