"""List Download files built by the tests, with openpyxl, as the portal might write them.

The portal's real columns are not published: these use its field labels (the
defaults), coloured (locked) header and data cells like the portal's, text cells
for numbers, and an Update Time column no field names.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import PatternFill

HEADERS = ["Site", "Extension", "Name", "Package", "Direct Dial Call Number", "Call Barring",
           "Device", "Portal ID", "E-mail", "Group Member Type", "Outgoing Caller ID",
           "MAC Address", "Password", "Update Time"]
EDITABLE = {"Name", "E-mail", "Password"}
LOCKED_FILL = PatternFill("solid", fgColor="FFD9D9D9")

#: The example tenant of sites/, as the portal would list it.
EXAMPLE_ROWS = [
    ["Main", "0997", "0997", "Empty User Pack", "", "common", "1030,iPECS One Premium", "",
     "", "", "", "02:00:00:00:09:97", "", "2022-09-26 17:31:28"],
    ["Main", "01230", "test vqm", "Empty User Pack", "", "common", "1030,iPECS One Premium",
     "", "", "", "", "020000001230", "", "2022-09-26 16:12:58"],
    ["Main", "01401", "test 1401", "Empty User Pack", "", "common", "IP-DECT 110", "", "",
     "", "", "", "", "2022-07-11 16:02:13"],
    ["Main", "0901", "0901", "Empty User Pack", "NONE", "common", "HotDesk User",
     "0901@35.com", "", "Single site group members", "024801027", "", "",
     "2022-10-06 14:23:23"],
    ["Main", "0965", "0965", "Empty User Pack", "", "common", "1030is,iPECS One Premium", "",
     "", "", "", "020000000965", "", "2022-06-12 13:28:09"],
]


def workbook(path: Path, rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS,
             sheet: str = "User List") -> Path:
    book = Workbook()
    worksheet = book.active
    assert worksheet is not None
    worksheet.title = sheet
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append([None if value == "" else value for value in row])
    for cells in worksheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.number_format = "@"  # text, as the portal writes numbers
            header = headers[cell.column - 1] if cell.column - 1 < len(headers) else ""
            if header not in EDITABLE:
                cell.fill = LOCKED_FILL
    book.save(path)
    return path


def csv_file(path: Path, rows: Sequence[Sequence[Any]], headers: Sequence[str] = HEADERS
             ) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def cells(path: Path) -> list[list[Any]]:
    """Every cell's value, row by row."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as file:
            return [list(row) for row in csv.reader(file)]
    book = load_workbook(path)
    worksheet = book.active
    assert worksheet is not None
    return [[cell.value for cell in row] for row in worksheet.iter_rows()]


def styles(path: Path) -> list[list[tuple[Any, ...]]]:
    """Every cell's value, type, fill colour and number format."""
    book = load_workbook(path)
    worksheet = book.active
    assert worksheet is not None
    return [[(cell.value, cell.data_type, cell.fill.fgColor.rgb, cell.number_format)
             for cell in row] for row in worksheet.iter_rows()]
