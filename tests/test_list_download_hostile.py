"""Hostile List Download files: each is refused with a message naming the sheet or cell
and exit 1, never a traceback and never a hang."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.conftest import Run
from tests.list_download_files import EXAMPLE_ROWS, HEADERS, workbook

#: every test here on both .xlsx readers (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("xlsx_reader")


def _not_a_spreadsheet(path: Path) -> Path:
    path.write_text("Extension,Name\n")
    return path.rename(path.with_suffix(".xlsx"))


def _encrypted(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    return path


def _empty_sheet(path: Path) -> Path:
    book = Workbook()
    book.save(path)
    return path


def _merged_cells(path: Path) -> Path:
    workbook(path, EXAMPLE_ROWS)
    from openpyxl import load_workbook
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.merge_cells("C2:C3")
    book.save(path)
    return path


def _one_cell(row: int, column: str, value: str) -> Callable[[Path], Path]:
    """The example's download with one cell changed."""
    def make(path: Path) -> Path:
        rows = [list(cells) for cells in EXAMPLE_ROWS]
        rows[row][HEADERS.index(column)] = value
        return workbook(path, rows)
    return make


def _extra_sheets(path: Path) -> Path:
    workbook(path, EXAMPLE_ROWS)
    from openpyxl import load_workbook
    book = load_workbook(path)
    book.create_sheet("Notes")
    book.save(path)
    return path


def _a_million_rows(path: Path) -> Path:
    csv = path.with_suffix(".csv")
    with open(csv, "w") as file:
        file.write("Site,Extension,Name\n")
        file.writelines(f"Main,{10000 + n % 90000},u\n" for n in range(1_000_000))
    return csv


def _zip_bomb(path: Path) -> Path:
    workbook(path, EXAMPLE_ROWS)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (50 * 1024 * 1024))
    return path


def _not_utf8_csv(path: Path) -> Path:
    csv = path.with_suffix(".csv")
    csv.write_bytes("Site,Extension,Name\nMain,0997,Jos\xe9\n".encode("latin-1"))
    return csv


def _with_entity(declaration: str) -> Callable[[Path], Path]:
    """The example's download whose first worksheet declares an XML entity and uses it
    in a cell (the billion laughs' first step, or an external file read)."""
    def make(path: Path) -> Path:
        made = workbook(path.with_name("plain.xlsx"), EXAMPLE_ROWS)
        with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename.startswith("xl/worksheets/sheet"):
                    text = data.decode()
                    head, body = text.split("?>", 1) if text.startswith("<?xml") else ("", text)
                    doctype = f"<!DOCTYPE worksheet [{declaration}]>"
                    body = body.replace("<v>", "<v>&e;", 1) if "<v>" in body else body
                    body = body.replace("<t>", "<t>&e;", 1)
                    data = ((head + "?>" if head else "") + doctype + body).encode()
                target.writestr(item, data)
        return path
    return make


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not a spreadsheet": (_not_a_spreadsheet, "is not an .xlsx spreadsheet (not a zip"),
    "encrypted": (_encrypted, "is an encrypted workbook or an old .xls file"),
    "empty sheet": (_empty_sheet, "sheet 'Sheet' is empty; its first row must name"),
    "merged cells": (_merged_cells, "sheet 'User List' has merged cells"),
    "formula": (_one_cell(2, "Name", '=HYPERLINK("http://x","y")'),
                "User List!C4: the name is a formula"),
    "extra sheets": (_extra_sheets, "has 2 sheets ('User List', 'Notes'); say which"),
    "a million rows": (_a_million_rows, "has more than 200,000 rows"),
    "zip bomb": (_zip_bomb, "refusing it as a possible zip bomb"),
    "a number twice": (_one_cell(4, "Extension", "0997"),
                       "User List!B6: extension 0997 is also at User List!B2"),
    "an XML entity": (_with_entity('<!ENTITY e "boom">'),
                      "declares a DTD (entities), which no spreadsheet program writes"),
    "an external entity": (_with_entity('<!ENTITY e SYSTEM "file:///etc/passwd">'),
                           "declares a DTD (entities), which no spreadsheet program writes"),
    "not UTF-8": (_not_utf8_csv, "is not UTF-8 text (line 2); save it as \"CSV UTF-8\""),
}


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_file_is_refused_by_name(run: Run, example_sites: Path, tmp_path: Path,
                                           case: str) -> None:
    make, message = CASES[case]
    path = make(tmp_path / "list.xlsx")
    result = run("plan", str(example_sites), "--tenant", f"list-download:///{path}")
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_a_file_that_is_not_there_or_not_a_spreadsheet_type(run: Run, example_sites: Path,
                                                            tmp_path: Path) -> None:
    gone = run("plan", str(example_sites), "--tenant", f"list-download:///{tmp_path}/no.xlsx")
    assert gone.exit_code == 1 and "cannot read the List Download file" in gone.stderr
    (tmp_path / "list.ods").write_text("x")
    other = run("plan", str(example_sites), "--tenant",
                f"list-download:///{tmp_path}/list.ods")
    assert other.exit_code == 1 and "a List Download file is .xlsx or .csv" in other.stderr
    bad_url = run("plan", str(example_sites), "--tenant", "list-download://host/list.xlsx")
    assert bad_url.exit_code == 1 and "list-download:///PATH.xlsx" in bad_url.stderr


def test_a_named_sheet_is_read_among_others(run: Run, example_sites: Path,
                                            tmp_path: Path) -> None:
    path = _extra_sheets(tmp_path / "list.xlsx")
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "list_download:\n  sheet: User List\n")
    assert run("plan", str(example_sites), "--tenant", f"list-download:///{path}",
               "--detailed-exitcode").exit_code == 0

