"""Opening a List Download file, whatever arrives: bounded, read-only, cell by cell.

A spreadsheet from a pull request or an e-mail may be anything: not a spreadsheet,
encrypted, a zip bomb, a million rows, formulas, merged cells. Each is refused here
with the sheet and cell to look at, before anything is compared. The zip's sizes and
its parts' prologs are checked before any reader opens it.

Two readers give the same cells. python-calamine (Rust, the `list-download` extra)
reads a 90,000-row file in a fraction of openpyxl's time; it reports a formula's
cached value, not that it is one, so formulas are found in the sheet's XML here.
openpyxl's read-only mode is used where calamine is not installed, or when
RECONCILER_XLSX_READER=openpyxl asks for it (should calamine ever misread a file).

The result is one sheet: its header row and data rows, each cell with the value the
file stores (text, number, date, formula) and its address (`Sheet1!A7`).
"""

from __future__ import annotations

import csv
import html
import importlib.util
import io
import os
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from reconciler.providers.list_download.zip_checks import MAX_FILE_BYTES as MAX_FILE_BYTES
from reconciler.providers.list_download.zip_checks import SpreadsheetError as SpreadsheetError
from reconciler.providers.list_download.zip_checks import check_zip

#: the numbering plan caps a tenant at 100,000 numbers; twice that leaves room
MAX_ROWS = 200_000
MAX_COLUMNS = 256
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MERGE_MARK = b"<mergeCell "
READER_VARIABLE = "RECONCILER_XLSX_READER"
READERS = ("calamine", "openpyxl")
#: a cell whose first child is a formula: `<c r="B7" ...><f>A1&A2</f>` (or `<f .../>`)
_FORMULA_CELL = re.compile(
    rb'<c\s[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>\s*<f(?:\s[^>]*)?(?:/>|>(.*?)</f>)', re.DOTALL)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


@dataclass(slots=True)  # not frozen: a frozen dataclass is made 4x slower, per cell
class Cell:
    value: Any  # str, int, float, bool, datetime, None; a formula is its text ("=A1")
    sheet: str
    row: int  # from 1, as the spreadsheet numbers rows
    column: int  # from 0: A is 0
    formula: bool = False

    @property
    def ref(self) -> str:
        """"Sheet1!A7": spelt only when a message needs it (a file has a million cells)."""
        return f"{self.sheet}!{column_letter(self.column)}{self.row}"


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    sheets: tuple[str, ...]  # every sheet in the file, for inspect


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def read_sheet(path: Path, sheet: str | None) -> Sheet:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise SpreadsheetError(f"{path}: cannot read the List Download file: "
                               f"{error.strerror or error}") from error
    if not path.is_file():
        raise SpreadsheetError(f"{path} is not a file")
    if size > MAX_FILE_BYTES:
        raise SpreadsheetError(f"{path} is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte "
                               "limit for a List Download file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    raise SpreadsheetError(f"{path}: a List Download file is .xlsx or .csv; save it as one")


def _read_xlsx(path: Path, wanted: str | None) -> Sheet:
    with open(path, "rb") as file:
        start = file.read(8)
    if start == _OLE_SIGNATURE:
        raise SpreadsheetError(f"{path} is an encrypted workbook or an old .xls file; save it "
                               "from the spreadsheet program as .xlsx without a password")
    check_zip(path)
    if xlsx_reader() == "calamine":
        return _read_with_calamine(path, wanted)
    try:
        from openpyxl import load_workbook
    except ImportError as error:
        raise SpreadsheetError("reading .xlsx needs openpyxl: pip install "
                               "'ipecs-reconciler[list-download]' (or save the file as "
                               "CSV)") from error
    try:
        workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise _unreadable(path, error) from error
    try:
        names = tuple(workbook.sheetnames)
        name = _chosen_sheet(path, names, wanted)
        worksheet = workbook[name]
        if _has_merged_cells(path, getattr(worksheet, "_worksheet_path", None)):
            raise _merged(path, name)
        try:
            rows = _rows(path, name, worksheet.iter_rows(), lambda row, number: tuple(
                Cell(cell.value, name, number, column, getattr(cell, "data_type", None) == "f")
                for column, cell in enumerate(row)))
        except SpreadsheetError:
            raise
        except Exception as error:  # the sheet's XML is parsed only now, as it streams
            raise _unreadable(path, error, name) from error
    finally:
        workbook.close()
    return _sheet(path, name, rows, names)


def _unreadable(path: Path, error: Exception, sheet: str | None = None) -> SpreadsheetError:
    """Either reader's refusal of a damaged file or sheet, in one wording."""
    what = f"{path}: sheet {sheet!r} is not readable" if sheet is not None else \
        f"{path} is not a readable .xlsx spreadsheet"
    return SpreadsheetError(f"{what} ({type(error).__name__}: {error}); download it again "
                            "from the portal")


def _merged(path: Path, sheet: str) -> SpreadsheetError:
    return SpreadsheetError(f"{path}: sheet {sheet!r} has merged cells; a List Download has "
                            "one value per cell: unmerge them (or download the file again)")


def xlsx_reader() -> str:
    """calamine where it is installed, else openpyxl; RECONCILER_XLSX_READER chooses."""
    asked = os.environ.get(READER_VARIABLE, "").strip().lower()
    if asked and asked not in READERS:
        raise SpreadsheetError(f"{READER_VARIABLE} is {asked!r}; use one of "
                               f"{', '.join(READERS)}, or leave it unset")
    if asked == "openpyxl" or (not asked and importlib.util.find_spec("python_calamine")
                               is None):
        return "openpyxl"
    if importlib.util.find_spec("python_calamine") is None:
        raise SpreadsheetError(f"{READER_VARIABLE}=calamine needs python-calamine: pip "
                               "install 'ipecs-reconciler[list-download]'")
    return "calamine"


def _read_with_calamine(path: Path, wanted: str | None) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as error:
        raise _unreadable(path, error) from error
    try:
        names = tuple(workbook.sheet_names)
        name = _chosen_sheet(path, names, wanted)
        try:
            sheet = workbook.get_sheet_by_name(name)
            merged = sheet.merged_cell_ranges
            values = sheet.to_python(skip_empty_area=False)
        except (CalamineError, ValueError) as error:
            raise _unreadable(path, error, name) from error
        if merged:
            raise _merged(path, name)
    finally:
        workbook.close()
    rows = _rows(path, name, values, lambda row, number: tuple(
        [Cell(None if value == "" else value, name, number, column)  # "": an empty cell
         for column, value in enumerate(row)]))
    for (number, column), formula in _formulas(path, names.index(name)).items():
        if number <= len(rows) and column < len(rows[number - 1]):
            rows[number - 1][column].value, rows[number - 1][column].formula = formula, True
    return _sheet(path, name, rows, names)


def _formulas(path: Path, index: int) -> dict[tuple[int, int], str]:
    """The formula cells of the workbook's `index`-th sheet, by (row from 1, column from
    0), each as "=" and its text, as openpyxl shows it."""
    with zipfile.ZipFile(path) as archive:
        part = _sheet_part(archive, index)
        if part is None:
            return {}
        data = archive.read(part)
    if b"<f" not in data:
        return {}  # the common case: one search, no pattern
    return {_position(ref.decode()): "=" + html.unescape((text or b"").decode("utf-8",
                                                                                "replace"))
            for ref, text in _FORMULA_CELL.findall(data)}


def _position(ref: str) -> tuple[int, int]:
    """"B7" -> (7, 1)."""
    letters = ref.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(ref[len(letters):]), column - 1


def _sheet_part(archive: zipfile.ZipFile, index: int) -> str | None:
    """The zip member holding the `index`-th sheet (workbook.xml lists them in order, its
    relationships name their parts). Both are small, and were checked for a DTD."""
    try:
        sheets = ElementTree.fromstring(archive.read("xl/workbook.xml")).iter(f"{_MAIN}sheet")
        relation = [sheet.get(_RELATIONSHIP) for sheet in sheets][index]
        links = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, IndexError, ElementTree.ParseError):
        return None
    for link in links:
        if link.get("Id") == relation:
            target = link.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            return part if part in archive.namelist() else None
    return None


def _has_merged_cells(path: Path, part: str | None) -> bool:
    """Read-only mode does not report merged cells: look for them in the sheet's XML."""
    with zipfile.ZipFile(path) as archive:
        parts = [part] if part else [n for n in archive.namelist()
                                     if n.startswith("xl/worksheets/")]
        for name in parts:
            with archive.open(name.lstrip("/")) as xml:
                tail = b""
                while chunk := xml.read(1024 * 1024):
                    if _MERGE_MARK in tail + chunk:
                        return True
                    tail = chunk[-len(_MERGE_MARK):]
    return False


def _chosen_sheet(path: Path, names: tuple[str, ...], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in names:
            raise SpreadsheetError(f"{path} has no sheet {wanted!r} (list_download.sheet); "
                                   f"its sheets: {', '.join(map(repr, names))}")
        return wanted
    if len(names) != 1:
        raise SpreadsheetError(f"{path} has {len(names)} sheets ({', '.join(map(repr, names))});"
                               " say which holds the users with list_download.sheet in "
                               "tenant.yaml")
    return names[0]


def _rows(path: Path, name: str, source: Any,
          cells_of: Callable[[Any, int], tuple[Cell, ...]]) -> list[tuple[Cell, ...]]:
    """`source`: a reader's rows, each made into Cells by `cells_of(row, its number)`
    (one call a row: a file has a million cells), within the limits."""
    rows: list[tuple[Cell, ...]] = []
    for number, row in enumerate(source, start=1):
        if number > MAX_ROWS + 1:
            raise SpreadsheetError(f"{path}: sheet {name!r} has more than {MAX_ROWS:,} rows, "
                                   "more than any tenant's numbering plan holds")
        if len(row) > MAX_COLUMNS:
            raise SpreadsheetError(f"{path}: sheet {name!r} has {len(row)} columns, over the "
                                   f"limit of {MAX_COLUMNS}")
        rows.append(cells_of(row, number))
    return rows


def _read_csv(path: Path) -> Sheet:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise SpreadsheetError(f"{path} is not UTF-8 text (line {line}); save it as "
                               "\"CSV UTF-8\"") from error
    if "\0" in text:
        raise SpreadsheetError(f"{path} holds NUL bytes: it is not a CSV file")
    dialect = csv_dialect(text)
    name = path.name
    try:
        source = csv.reader(io.StringIO(text, newline=""), dialect)
        rows = _rows(path, name, source, lambda row, number: tuple(
            Cell(value, name, number, column) for column, value in enumerate(row)))
    except csv.Error as error:
        raise SpreadsheetError(f"{path} is not a well-formed CSV file: {error}") from error
    return _sheet(path, name, rows, (name,))


class _PortalCsv(csv.excel):
    """RFC 4180, as spreadsheet programs write it: fields in double quotes where
    needed, a quote doubled inside them, spaces kept as they are."""


def csv_dialect(text: str) -> type[csv.Dialect]:
    """The file's dialect: only its delimiter is guessed (comma, semicolon or tab, as a
    spreadsheet's locale chooses). Everything else is RFC 4180's: a guessed dialect
    could skip leading spaces on reading, or have no way to write a quote, so a name
    would not read back as written."""
    try:
        delimiter = csv.Sniffer().sniff(text[:64 * 1024], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    return type("FileCsv", (_PortalCsv,), {"delimiter": delimiter})


def _sheet(path: Path, name: str, rows: list[tuple[Cell, ...]],
           names: tuple[str, ...]) -> Sheet:
    while rows and all(_blank(cell.value) for cell in rows[-1]):
        rows.pop()
    if not rows or all(_blank(cell.value) for cell in rows[0]):
        raise SpreadsheetError(f"{path}: sheet {name!r} is empty; its first row must name "
                               "the columns (Extension, Name, ...)")
    return Sheet(name, rows[0], tuple(rows[1:]), names)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
