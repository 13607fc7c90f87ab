"""The portal's List Download as a read-only tenant: what it shows is compared, what it
does not is unknown, its cells are read with care, and apply never writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import Run
from tests.list_download_files import EXAMPLE_ROWS, HEADERS, cells, csv_file, workbook

#: every test here on both .xlsx readers (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("xlsx_reader")


def _url(path: Path, tenant: str | None = None) -> str:
    return f"list-download:///{path}" + (f"?tenant={tenant}" if tenant else "")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def download(tmp_path: Path) -> Path:
    return workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)


def test_the_example_plans_empty_against_its_download(run: Run, example_sites: Path,
                                                      download: Path) -> None:
    result = run("plan", str(example_sites), "--tenant", _url(download),
                 "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert f"Compared with List Download file {download}: only what it shows." in result.stdout
    assert "shared_line (none in the file)" in result.stdout
    assert "No changes." in result.stdout


def test_what_the_file_shows_is_compared_and_nothing_else(run: Run, example_sites: Path,
                                                          download: Path) -> None:
    users = example_sites / "Main" / "users.yaml"
    _edit(users, "name: test vqm", 'name: "Reception"\n    email: "desk@example.com"')
    _edit(users, 'mac: "020000000965"', 'mac: "020000000966"')
    # not in the file: a user's AAD ID, every shared line
    _edit(users, 'name: "0997"', 'name: "0997"\n    aad_id: "ann@example.onmicrosoft.com"')
    lines = example_sites / "Main" / "shared-lines.yaml"
    _edit(lines, "description: test", 'description: "changed"')
    result = run("plan", str(example_sites), "--tenant", _url(download), "--format", "json")
    document = json.loads(result.stdout)
    changed = {(c["number"], tuple(sorted(c["fields"]))) for c in document["changes"]}
    assert changed == {("01230", ("email", "name")), ("0965", ("mac",))}
    assert document["compared"]["kinds"] == ["user", "hot_desk_user"]
    assert "aad_id" in document["compared"]["not_compared"]["user"]
    assert "mac" in document["compared"]["fields"]["user"]
    assert "mac" not in document["compared"]["fields"]["hot_desk_user"]


def _without_01401(example_sites: Path) -> None:
    users = example_sites / "Main" / "users.yaml"
    text = users.read_text()
    start = text.index('  - extension: "01401"')
    users.write_text(text[:start] + text[text.index("  - extension:", start + 5):])


def test_a_user_made_in_the_portal_is_shown_for_what_it_is_and_left_alone(
        run: Run, example_sites: Path, download: Path) -> None:
    """A row git never declared was made in the portal (issue 20, point 6): not "no
    longer in the config", and not deleted."""
    _without_01401(example_sites)
    result = run("plan", str(example_sites), "--tenant", _url(download),
                 "--detailed-exitcode")
    assert result.exit_code == 0, result.output  # nothing to do
    assert ("In the portal, not in git (declare it, ignore it, or delete it: `prune: true` "
            "on its site deletes):\n  Main: user 01401") in result.stdout
    assert "no longer in the config" not in result.stdout
    markdown = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                   "markdown").stdout
    assert "In the portal, not in git (declare it, ignore it, or delete it" in markdown
    runbook = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                  "runbook").stdout
    assert "Delete user 01401" not in runbook


def test_a_site_that_prunes_deletes_what_was_made_in_the_portal(
        run: Run, example_sites: Path, download: Path) -> None:
    _without_01401(example_sites)
    (example_sites / "Main" / "site.yaml").write_text("site:\n  prune: true\n")
    runbook = run("plan", str(example_sites), "--tenant", _url(download), "--format",
                  "runbook")
    assert "Delete user 01401 (site Main)" in runbook.stdout
    document = json.loads(run("plan", str(example_sites), "--tenant", _url(download),
                              "--format", "json").stdout)
    (change,) = document["changes"]
    assert change["reason"] == "delete_because_in_portal_not_in_git"
    assert change["note"] == "in the portal, not in git; deleted as its site prunes (prune: true)"


def test_apply_never_writes_a_download(run: Run, example_sites: Path, download: Path) -> None:
    _edit(example_sites / "Main" / "users.yaml", "name: test vqm", 'name: "Reception"')
    before = download.read_bytes()
    result = run("apply", str(example_sites), "--tenant", _url(download), "--auto-approve")
    assert result.exit_code == 1
    assert "read-only view of the real tenant" in result.stderr
    assert "--format runbook" in result.stderr and "--format list-upload" in result.stderr
    assert result.stdout == ""  # refused before anything is planned or asked
    assert download.read_bytes() == before
    for command in (("local-tenant", "set-facts", str(example_sites)),
                    ("tenant", "rename", "A", "B")):
        refused = run(*command, "--tenant", _url(download))
        assert refused.exit_code == 1 and "read-only view" in refused.stderr


def test_columns_are_configured_and_matched_loosely(run: Run, example_sites: Path,
                                                   tmp_path: Path) -> None:
    headers = [{"Extension": "EXTENSION ", "E-mail": "Email Address", "Name": "Full  name"}
               .get(h, h) for h in HEADERS] + ["Department"]
    rows = [[*row, "Sales"] for row in EXAMPLE_ROWS]
    custom = workbook(tmp_path / "custom.xlsx", rows, headers)
    missing = run("plan", str(example_sites), "--tenant", _url(custom))
    assert missing.exit_code == 1
    assert "no 'Name' column" in missing.stderr and "'Full  name'" in missing.stderr
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "list_download:\n  columns:\n"
                           "    name: full name\n    email: email address\n")
    planned = run("plan", str(example_sites), "--tenant", _url(custom), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    inspected = run("list-download", "inspect", str(custom), "--config", str(example_sites))
    assert inspected.exit_code == 0, inspected.output
    assert "User List!C1 'Full  name'" in inspected.stdout
    assert "-> name [editable]" in inspected.stdout
    assert "'Department'                 -> carried along, not compared [locked]" \
        in inspected.stdout
    twice = workbook(tmp_path / "twice.xlsx", [[*row, "x"] for row in EXAMPLE_ROWS],
                     [*HEADERS, "e-mail"])
    duplicated = run("plan", str(example_sites), "--tenant", _url(twice))
    assert duplicated.exit_code == 1
    assert "header 'e-mail' is written twice (User List!I1 and User List!O1)" \
        in duplicated.stderr


def _with_cell(rows: list[list[object]], row: int, column: str, value: object
               ) -> list[list[object]]:
    changed = [list(r) for r in rows]
    changed[row][HEADERS.index(column)] = value
    return changed


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (997, None, "User List!B2: the extension is stored as the number 997, not as text"),
    (997.0, None, "User List!B2: the extension is stored as the number 997, not as text"),
    (997, 4, None),
    (997.0, 4, None),
    (99701, 4, "it has more digits than list_download.extension_digits (4)"),
    ("=0997", None, "User List!B2: the extension is a formula (=0997)"),
    (__import__("datetime").datetime(2023, 9, 7), None, "User List!B2: the extension is a date"),
])
def test_numbers_survive_the_spreadsheet(run: Run, example_sites: Path, tmp_path: Path,
                                         value: object, digits: int | None,
                                         expected: str | None) -> None:
    rows = _with_cell(EXAMPLE_ROWS, 0, "Extension", value)
    path = workbook(tmp_path / "numbers.xlsx", rows)
    if digits is not None:
        tenant_yaml = example_sites / "tenant.yaml"
        tenant_yaml.write_text(tenant_yaml.read_text()
                               + f"list_download:\n  extension_digits: {digits}\n")
    result = run("plan", str(example_sites), "--tenant", _url(path), "--detailed-exitcode")
    if expected is None:  # 0997 restored: the example matches
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and expected in result.stderr, result.output


def test_direct_dial_numbers_get_the_same_care(run: Run, example_sites: Path,
                                               tmp_path: Path) -> None:
    rows = _with_cell(EXAMPLE_ROWS, 3, "Outgoing Caller ID", 24801027)
    path = workbook(tmp_path / "ddn.xlsx", rows)
    result = run("plan", str(example_sites), "--tenant", _url(path))
    assert result.exit_code == 1
    assert "User List!K5: the outgoing caller id is stored as the number 24801027" \
        in result.stderr
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "list_download:\n"
                           "  direct_dial_digits: 9\n")
    assert run("plan", str(example_sites), "--tenant", _url(path),
               "--detailed-exitcode").exit_code == 0
    text_cells = csv_file(tmp_path / "list.csv", EXAMPLE_ROWS)  # CSV: text stays text
    assert run("plan", str(example_sites), "--tenant", _url(text_cells),
               "--detailed-exitcode").exit_code == 0


def test_import_from_a_download_round_trips(run: Run, download: Path, tmp_path: Path) -> None:
    nameless = run("import", "--tenant", _url(download), "--out", "unnamed")
    assert nameless.exit_code == 1 and "?tenant=NAME" in nameless.stderr
    result = run("import", "--tenant", _url(download, "Acme"), "--out", "imported")
    assert result.exit_code == 0, result.output
    tenant_yaml = (tmp_path / "imported" / "tenant.yaml").read_text()
    assert "NOT in the file: check it in the portal" in tenant_yaml
    assert '"Empty User Pack": 5' in tenant_yaml
    assert run("validate", "imported").exit_code == 0
    assert run("plan", "imported", "--tenant", _url(download, "Acme"),
               "--detailed-exitcode").exit_code == 0
    other = run("plan", "imported", "--tenant", _url(download, "Bobs Bakery"))
    assert other.exit_code == 1 and 'config is for "Acme"' in other.stderr


def test_a_download_without_macs_imports_with_what_to_add(run: Run, tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "MAC Address"]
    rows = [[v for h, v in zip(HEADERS, row, strict=True) if h != "MAC Address"]
            for row in EXAMPLE_ROWS]
    path = workbook(tmp_path / "nomac.xlsx", rows, headers)
    result = run("import", "--tenant", _url(path, "Acme"), "--out", "imported")
    assert result.exit_code == 1 and "[user.mac-required]" in result.stderr
    users = (tmp_path / "imported" / "Main" / "users.yaml").read_text()
    assert "# mac: the desk phone's MAC: not in the List Download" in users


def _copy(example_sites: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(example_sites, copy)
    return copy


def test_cells_of_the_download_are_read_back_as_written(download: Path) -> None:
    assert cells(download)[1][:3] == ["Main", "0997", "0997"]


def test_a_file_without_a_site_column_takes_the_configured_site(run: Run, example_sites: Path,
                                                               tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h != "Site"]
    rows = [[v for h, v in zip(HEADERS, row, strict=True) if h != "Site"]
            for row in EXAMPLE_ROWS]
    path = workbook(tmp_path / "nosite.xlsx", rows, headers)
    unsited = run("plan", str(example_sites), "--tenant", _url(path))
    assert unsited.exit_code == 1
    assert "User List!A2: extension 0997 has no site" in unsited.stderr
    assert "set list_download.site in tenant.yaml" in unsited.stderr
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text() + "list_download:\n  site: Main\n")
    assert run("plan", str(example_sites), "--tenant", _url(path),
               "--detailed-exitcode").exit_code == 0


def test_a_projected_config_answers_from_its_own_resources(example_sites: Path) -> None:
    """Indexes the rules built on the whole config are not reused by its projection
    onto a view that shows no shared lines."""
    from reconciler.loading.config_loading import load_config
    from schema.state import Kind, Visibility
    from schema.visibility import projected

    config = load_config(example_sites)
    assert list(config.of_kind(Kind.SHARED_LINE))  # asked, and remembered
    view = Visibility("a file", {Kind.USER: frozenset({"name"}),
                                 Kind.HOT_DESK_USER: frozenset({"name"})})
    seen = projected(config, view)
    assert list(seen.of_kind(Kind.SHARED_LINE)) == []
    assert all(set(d.fields()) <= {"name"} for d in seen.of_kind(Kind.USER))


def test_a_download_that_never_shows_passwords_stops_planning_the_same_one(
        run: Run, example_sites: Path, download: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The portal may leave the Password column blank (or masked) for everyone: without
    the setting the same password is planned on every run; with it, every user counts
    as having one set, and a password is planned only when the setting is lifted for
    the plan that sets it (the download shows no password_rotation to raise)."""
    monkeypatch.setenv("RECONCILER_PW_0997", "Secret-0997x")
    users = example_sites / "Main" / "users.yaml"
    _edit(users, 'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_0997}')
    plan = run("plan", str(example_sites), "--tenant", _url(download))
    assert "password: (sensitive, will be set)" in plan.stdout  # blank Password: none set
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text()
                           + "list_download:\n  passwords_shown: false\n")
    quiet = run("plan", str(example_sites), "--tenant", _url(download), "--detailed-exitcode")
    assert quiet.exit_code == 0, quiet.output  # the loop is closed
    _edit(tenant_yaml, "passwords_shown: false", "passwords_shown: true")
    lifted = run("plan", str(example_sites), "--tenant", _url(download))
    assert "password: (sensitive, will be set)" in lifted.stdout


def test_an_unknown_reader_is_named_with_the_choices(run: Run, example_sites: Path,
                                                    download: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_XLSX_READER", "xlrd")
    result = run("plan", str(example_sites), "--tenant", f"list-download:///{download}")
    assert result.exit_code == 1
    assert "RECONCILER_XLSX_READER is 'xlrd'; use one of calamine, openpyxl" in result.stderr
    assert "Traceback" not in result.output


def test_both_readers_give_the_same_cells(download: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.providers.list_download.workbook import read_sheet

    seen = {}
    for reader in ("calamine", "openpyxl"):
        monkeypatch.setenv("RECONCILER_XLSX_READER", reader)
        sheet = read_sheet(download, None)
        seen[reader] = [[(cell.value, cell.ref, cell.formula) for cell in row]
                        for row in (sheet.header, *sheet.rows)]
    assert seen["calamine"] == seen["openpyxl"]
