"""The upload file: the download with only editable cells changed, and the loop closed:
download, plan, do the runbook and the upload, download again, plan empty."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.list_download_files import (
    EDITABLE,
    EXAMPLE_ROWS,
    HEADERS,
    cells,
    csv_file,
    styles,
    workbook,
)

#: every test here on both .xlsx readers (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("xlsx_reader")

SECRET = "Pa55-word-0997"


def _url(path: Path) -> str:
    return f"list-download:///{path}"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _changes(sites: Path) -> None:
    """A name and an e-mail (uploadable), a password, a package... and a new user."""
    users = sites / "Main" / "users.yaml"
    _edit(users, "name: test vqm", 'name: "Reception"\n    email: "desk@example.com"')
    _edit(users, 'name: "0997"', 'name: "Ann Lee"\n    password: {env: RECONCILER_PW_0997}')
    _edit(users, "devices: [IP-DECT 110]", 'devices: ["IP-DECT 110", "iPECS One Premium"]\n'
          '    mac: "020000001401"')
    users.write_text(users.read_text() + '\n  - extension: "1402"\n    name: "Front desk"\n'
                     '    package: Empty User Pack\n    devices: ["IP-DECT 110"]\n')


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_only_editable_cells_change(run: Run, example_sites: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    build = workbook if suffix == ".xlsx" else csv_file
    download = build(tmp_path / f"list{suffix}", EXAMPLE_ROWS)
    _changes(example_sites)
    monkeypatch.setenv("RECONCILER_PW_0997", SECRET)
    out = tmp_path / f"edits{suffix}"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "names, e-mails and portal passwords of 2 user(s) changed" in result.stdout
    assert "create user 1402 (Main)" in result.stdout  # left to the runbook
    assert "update user 01401 (Main): devices, mac" in result.stdout
    assert SECRET not in result.output
    assert "holds 1 portal password(s)" in result.stderr and "CI artifact" in result.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    before, after = cells(download), cells(out)
    assert len(after) == len(before) and [r[1] for r in after] == [r[1] for r in before]
    changed = {(r, HEADERS[c]) for r, row in enumerate(after) for c, value in enumerate(row)
               if value != before[r][c]}
    assert changed == {(1, "Name"), (1, "Password"), (2, "Name"), (2, "E-mail")}
    assert after[1][HEADERS.index("Password")] == SECRET
    assert after[2][HEADERS.index("E-mail")] == "desk@example.com"
    if suffix == ".csv":  # every record not edited keeps its bytes
        kept = [line for line in download.read_bytes().splitlines(keepends=True)
                if b"0997" not in line and b"01230" not in line]
        assert kept and all(line in out.read_bytes() for line in kept)
    if suffix == ".xlsx":  # every locked cell keeps its value, type, colour and format
        old, new = styles(download), styles(out)
        locked = [c for c, header in enumerate(HEADERS) if header not in EDITABLE]
        assert [[row[c] for c in locked] for row in new] == \
            [[row[c] for c in locked] for row in old]


def test_without_a_password_change_the_file_is_not_private(run: Run, example_sites: Path,
                                                          tmp_path: Path) -> None:
    download = workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", 'name: "Reception"')
    out = tmp_path / "edits.xlsx"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0 and "password" not in result.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


def test_the_upload_is_refused_where_it_cannot_be_made(run: Run, example_sites: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    download = workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)
    plain = run("plan", str(example_sites), "--format", "list-upload", "--out", "x.xlsx")
    assert plain.exit_code == 1 and "--tenant list-download:///" in plain.stderr
    no_out = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload")
    assert no_out.exit_code == 1 and "--out edits.xlsx" in no_out.stderr
    other_kind = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                     "list-upload", "--out", str(tmp_path / "edits.csv"))
    assert other_kind.exit_code == 1 and "should end in .xlsx" in other_kind.stderr
    itself = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(download))
    assert itself.exit_code == 1 and "the downloaded file itself" in itself.stderr
    _edit(example_sites / "Main" / "users.yaml", 'name: "0997"',
          'name: "0997"\n    password: {env: RECONCILER_PW_0997}')
    monkeypatch.delenv("RECONCILER_PW_0997", raising=False)
    out = tmp_path / "edits.xlsx"
    missing = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                  "list-upload", "--out", str(out))
    assert missing.exit_code == 1 and "RECONCILER_PW_0997 is not set" in missing.stderr
    assert not out.exists()
    monkeypatch.setenv("RECONCILER_PW_0997", "short")
    too_short = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                    "list-upload", "--out", str(out))
    assert too_short.exit_code == 1 and "8 to 15 characters" in too_short.stderr
    assert "short" not in too_short.output and not out.exists()
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", 'name: "=HYPERLINK(1)"')
    monkeypatch.setenv("RECONCILER_PW_0997", SECRET)
    formula = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                  "list-upload", "--out", str(out))
    assert formula.exit_code == 0
    assert "update user 01230 (Main): name (starts with '='" in formula.stdout
    assert all(not str(v).startswith("=") for row in cells(out) for v in row if v)


def _portal_after(upload: Path, download: Path, new_rows: list[list[object]]) -> Path:
    """What the portal's next List Download holds once the upload and the runbook's
    steps are done: the uploaded file, with passwords shown as set (masked) and the
    users the runbook created as new rows."""
    rows = cells(upload)[1:]
    password = HEADERS.index("Password")
    for row in rows:
        row[password] = "********" if row[password] else ""
    return workbook(download, [*rows, *new_rows])


def test_the_manual_tenant_loop_closes(run: Run, example_sites: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    download = workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)
    users = example_sites / "Main" / "users.yaml"
    _edit(users, "name: test vqm", 'name: "Reception"\n    email: "desk@example.com"')
    _edit(users, 'name: "0997"', 'name: "Ann Lee"\n    password: {env: RECONCILER_PW_0997}')
    users.write_text(users.read_text() + '\n  - extension: "1402"\n    name: "Front desk"\n'
                     '    package: Empty User Pack\n    devices: ["IP-DECT 110"]\n')
    monkeypatch.setenv("RECONCILER_PW_0997", SECRET)
    runbook = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                  "runbook")
    assert ". Create user 1402 (site Main)" in runbook.stdout
    assert ". Modify user 01230 (site Main)" in runbook.stdout
    upload = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(tmp_path / "edits.xlsx"))
    assert upload.exit_code == 0, upload.output
    assert "create user 1402 (Main)" in upload.stdout  # the runbook's part
    created = ["Main", "1402", "Front desk", "Empty User Pack", "", "", "IP-DECT 110", "", "",
               "", "", "", "", "2026-11-27 10:00:00"]
    _portal_after(tmp_path / "edits.xlsx", download, [created])
    again = run("plan", str(example_sites), "--tenant", _url(download), "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_csv_upload_keeps_every_other_record_byte_for_byte(run: Run, example_sites: Path,
                                                            tmp_path: Path) -> None:
    """The portal's CSV may quote every field and end lines its own way; only the
    edited record is written anew."""
    download = tmp_path / "list.csv"
    with open(download, "w", newline="", encoding="utf-8") as file:
        writer = __import__("csv").writer(file, quoting=__import__("csv").QUOTE_ALL,
                                          lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(EXAMPLE_ROWS)
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", 'name: "Reception"')
    out = tmp_path / "edits.csv"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0, result.output
    before = download.read_bytes().split(b"\n")
    after = out.read_bytes().split(b"\n")
    assert len(after) == len(before)
    changed = [index for index, (old, new) in enumerate(zip(before, after, strict=True))
               if old != new]
    assert changed == [2] and b"Reception" in after[2]
    assert cells(out)[2][:2] == ["Main", "01230"]


def test_a_download_replaced_while_planning_is_not_edited(example_sites: Path,
                                                         tmp_path: Path) -> None:
    from reconciler.output.list_upload import write_upload
    from reconciler.providers.list_download import ListDownloadTenant
    from reconciler.runs import plan_run
    from reconciler.runtime.errors import ReconcilerError

    download = workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", 'name: "Reception"')
    provider = ListDownloadTenant(_url(download))
    planned = plan_run(example_sites, provider)
    workbook(download, EXAMPLE_ROWS[1:])  # downloaded again meanwhile: other rows
    with pytest.raises(ReconcilerError, match="changed while it was being planned"):
        write_upload(planned.plan, provider, tmp_path / "edits.xlsx")
    assert not (tmp_path / "edits.xlsx").exists()


def test_a_row_whose_zeros_were_restored_is_still_edited(run: Run, example_sites: Path,
                                                         tmp_path: Path) -> None:
    rows = [list(row) for row in EXAMPLE_ROWS]
    rows[0][HEADERS.index("Extension")] = 997  # the spreadsheet dropped the zero
    download = workbook(tmp_path / "list.xlsx", rows)
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "list_download:\n  extension_digits: 4\n")
    _edit(example_sites / "Main" / "users.yaml", 'name: "0997"', 'name: "Ann Lee"')
    out = tmp_path / "edits.xlsx"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "of 1 user(s) changed" in result.stdout and "Not in the upload" not in result.stdout
    edited = cells(out)[1]
    assert edited[HEADERS.index("Name")] == "Ann Lee"
    assert edited[HEADERS.index("Extension")] == 997  # locked: left as downloaded


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_password_a_spreadsheet_would_run_is_left_to_the_runbook(
        run: Run, example_sites: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        suffix: str) -> None:
    """The formula guard holds for passwords too, and says so without any of it."""
    build = workbook if suffix == ".xlsx" else csv_file
    download = build(tmp_path / f"list{suffix}", EXAMPLE_ROWS)
    _edit(example_sites / "Main" / "users.yaml", 'name: "0997"',
          'name: "Ann Lee"\n    password: {env: RECONCILER_PW_0997}')
    formula = "=cmd|' /C x'!A0"[:15]
    monkeypatch.setenv("RECONCILER_PW_0997", formula)
    out = tmp_path / f"edits{suffix}"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ("update user 0997 (Main): password (starts with a character a spreadsheet "
            "would run as a formula)") in result.stdout
    assert formula not in result.output and "'='" not in result.output
    assert all(not str(v).startswith("=") for row in cells(out) for v in row if v)
    assert cells(out)[1][HEADERS.index("Name")] == "Ann Lee"  # the name still goes


# (A name starting with '=' is left to the runbook, tested above; a tab or a line
# break is a control character no name may hold.)
HOSTILE_NAMES = ['He said "hi", twice', "a,b;c", "  leading spaces", "trailing  ", '"',
                 "'quoted'", "semi;colon", ' "both" ']


@pytest.mark.parametrize("dialect", ["excel", "quote-all", "semicolons"])
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_csv_upload_writes_any_name_and_reads_back_the_same(
        run: Run, example_sites: Path, tmp_path: Path, dialect: str, name: str) -> None:
    """Quotes, commas, semicolons, tabs, leading spaces: the edited record is written so
    that the tool (and any CSV reader of the file's own dialect) reads the name back
    exactly, and planning the portal after the upload finds nothing to do."""
    import csv

    from reconciler.providers.list_download.workbook import read_sheet

    download = tmp_path / "list.csv"
    options = {"excel": {}, "quote-all": {"quoting": csv.QUOTE_ALL},
               "semicolons": {"delimiter": ";"}}[dialect]
    with open(download, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, **options)  # type: ignore[arg-type]
        writer.writerow(HEADERS)
        writer.writerows(EXAMPLE_ROWS)
    yaml_name = name.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", f'name: "{yaml_name}"')
    out = tmp_path / "edits.csv"
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                 "list-upload", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = read_sheet(out, None)
    names = {row[1].value: row[2].value for row in sheet.rows}
    assert names["01230"] == name
    again = run("plan", str(example_sites), "--tenant", _url(out), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
