"""`reconcile import --update`: the portal's changes written into an existing tree by the
smallest edit; every other line stays byte for byte, and the tree then plans empty."""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from reconciler.loading.config_loading import load_config
from reconciler.runtime.errors import ConfigError
from tests.conftest import TENANT_YAML, Run, WriteTree
from tests.tenant_helpers import portal_edit
from tests.test_property_apply import TenantSpec, tenants, write_sites

MIXED = """\
# Main's people. Keep this comment.
users:
  - {extension: "1001", name: 'Ann', package: Basic, devices: ["1030"]}   # flow, on one line

  # Bob: block style, comments around
  - extension: "1002"
    name: Bob     # the receptionist
    package: Basic
    devices:
      - "1030"

  # Cid leaves the company
  - extension: "1003"
    name: Cid
    package: Basic
    devices: ["1030"]
# end of users
shared_lines:
  - number: "555"
    description: Front desk
    members:
      - {extension: "1001", button: 1}
      - extension: "1002"
        button: 2
"""


#: MIXED after the portal renamed Ann and Bob, deleted Cid, added Dee and renamed the
#: line: each changed value in place (quoted as import quotes), Cid gone with his
#: comment, Dee appended as import writes her; every other byte as it was.
UPDATED = """\
# Main's people. Keep this comment.
users:
  - {extension: "1001", name: "Ann Lee", package: Basic, devices: ["1030"]}   # flow, on one line

  # Bob: block style, comments around
  - extension: "1002"
    name: "Robert"     # the receptionist
    package: Basic
    devices:
      - "1030"

  - extension: "1004"
    name: "Dee"
    group_member_type: "single_site"
    package: "Basic"
    devices: ["1030"]
    # passwords are never imported; to set one: password: {env: RECONCILER_PW_1004}
# end of users
shared_lines:
  - number: "555"
    description: "Reception"
    members:
      - {extension: "1001", button: 1}
      - extension: "1002"
        button: 2
"""


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.fixture
def applied(run: Run, write_tree: WriteTree, tmp_path: Path) -> tuple[Path, Path]:
    sites = write_tree({"Main/people.yaml": MIXED})
    tenant = tmp_path / "t.db"
    assert run("apply", "--auto-approve", "--tenant", f"sqlite:///{tenant}").exit_code == 0
    return sites, tenant


def _update(run: Run, tenant: Path) -> str:
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_portal_s_changes_come_back_as_the_smallest_edit(
        run: Run, applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    portal_edit(tenant, "UPDATE users SET name = 'Ann Lee' WHERE extension = '1001'")
    portal_edit(tenant, "UPDATE users SET name = 'Robert' WHERE extension = '1002'")
    portal_edit(tenant, "UPDATE shared_lines SET description = 'Reception' WHERE number = '555'")
    run("apply", "--auto-approve", "--tenant", f"sqlite:///{tenant}",  # Cid goes, Dee comes
        str(_other_tree(sites)))
    printed = _update(run, tenant)
    assert "updated 1 file(s) in sites/: 3 value(s) changed, 1 resource(s) added, 1 removed" \
        in printed
    assert "checked: sites/ validates and plans no changes against the tenant." in printed
    assert (sites / "Main" / "people.yaml").read_text() == UPDATED
    again = run("plan", "--detailed-exitcode", "--tenant", f"sqlite:///{tenant}")
    assert again.exit_code == 0, again.output


def _other_tree(sites: Path) -> Path:
    """The tenant as the portal left it: Cid deleted, Dee added (an apply of this tree)."""
    other = sites.parent / "portal"
    (other / "Main").mkdir(parents=True, exist_ok=True)
    (other / "tenant.yaml").write_text((sites / "tenant.yaml").read_text())
    text = (sites / "Main" / "people.yaml").read_text()
    start, end = text.index("  # Cid"), text.index("# end of users")
    text = text[:start] + ('  - {extension: "1004", name: Dee, package: Basic, '
                           'devices: ["1030"]}\n') + text[end:]
    text = text.replace("name: 'Ann'", "name: Ann Lee").replace("name: Bob", "name: Robert")
    (other / "Main" / "people.yaml").write_text(text.replace("Front desk", "Reception"))
    return other


def test_a_field_the_tree_does_not_write_stays_unwritten(
        run: Run, applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    portal_edit(tenant, "UPDATE users SET email = 'ann@example.com' WHERE extension = '1001'")
    printed = _update(run, tenant)
    assert "already holds the tenant's values: nothing to update" in printed
    assert (sites / "Main" / "people.yaml").read_text() == MIXED


def test_seats_bought_in_the_portal_come_back_into_tenant_yaml(
        run: Run, applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    portal_edit(tenant, "UPDATE packages SET seats = 12 WHERE name = 'Basic'")
    _update(run, tenant)
    assert _changed_lines(TENANT_YAML, (sites / "tenant.yaml").read_text()) == [
        "-  Basic: 10", "+  Basic: 12"]


def test_a_new_site_in_the_tenant_gets_its_own_file(run: Run, applied: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    sites, tenant = applied
    branch = tmp_path / "branch"
    (branch / "Main").mkdir(parents=True)
    (branch / "Branch").mkdir()
    (branch / "tenant.yaml").write_text((sites / "tenant.yaml").read_text())
    (branch / "Main" / "people.yaml").write_text(MIXED)
    (branch / "Branch" / "x.yaml").write_text(
        'hot_desk_users:\n  - {extension: "2001", name: Desk, package: Basic}\n')
    assert run("apply", "--auto-approve", str(branch), "--tenant",
               f"sqlite:///{tenant}").exit_code == 0
    _update(run, tenant)
    assert (sites / "Main" / "people.yaml").read_text() == MIXED
    written = (sites / "Branch" / "hot-desk-users.yaml").read_text()
    assert 'hot_desk_users:\n  - extension: "2001"\n    name: "Desk"' in written


def test_nothing_is_written_when_the_edit_would_not_plan_empty(
        run: Run, applied: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.writing import config_writing

    sites, tenant = applied
    portal_edit(tenant, "UPDATE users SET name = 'Ann Lee' WHERE extension = '1001'")
    monkeypatch.setattr(config_writing, "value_text", lambda name, value: '"wrong"')
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 1
    assert "does not plan empty against the tenant" in result.stderr
    assert "nothing was written" in result.stderr
    assert (sites / "Main" / "people.yaml").read_text() == MIXED


def test_update_needs_a_tree_and_is_not_force(run: Run, applied: tuple[Path, Path]) -> None:
    _, tenant = applied
    url = f"sqlite:///{tenant}"
    empty = run("import", "--update", "--out", "elsewhere", "--tenant", url)
    assert empty.exit_code == 1 and "elsewhere holds no tenant.yaml" in empty.stderr
    both = run("import", "--update", "--force", "--out", "sites", "--tenant", url)
    assert both.exit_code != 0 and "give one of them" in both.output


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=tenants())
def test_any_accepted_tree_against_its_own_tenant_changes_no_byte(spec: TenantSpec) -> None:
    from reconciler.cli import cli
    from tests.conftest import cli_runner

    with tempfile.TemporaryDirectory() as scratch:
        sites = write_sites(Path(scratch), spec)
        try:
            load_config(sites)
        except ConfigError:
            assume(False)
        url = f"sqlite:///{Path(scratch) / 't.db'}"
        applied = cli_runner().invoke(cli, ["apply", "--auto-approve", str(sites),
                                            "--tenant", url])
        assume(applied.exit_code == 0)
        before = {p: p.read_bytes() for p in sites.rglob("*") if p.is_file()}
        result = cli_runner().invoke(cli, ["import", "--update", "--out", str(sites),
                                           "--tenant", url], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert {p: p.read_bytes() for p in sites.rglob("*") if p.is_file()} == before


def test_a_block_list_and_members_changed_in_the_portal(run: Run,
                                                        applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    portal = sites.parent / "portal"
    (portal / "Main").mkdir(parents=True)
    (portal / "tenant.yaml").write_text((sites / "tenant.yaml").read_text())
    (portal / "Main" / "people.yaml").write_text(
        MIXED.replace('      - "1030"\n', '      - "1040"\n')
        .replace('      - extension: "1002"\n        button: 2\n', ""))
    assert run("apply", "--auto-approve", str(portal), "--tenant",
               f"sqlite:///{tenant}").exit_code == 0
    _update(run, tenant)
    assert _changed_lines(MIXED, (sites / "Main" / "people.yaml").read_text()) == [
        "-    devices:", "-      - \"1030\"", '+    devices: ["1040"]', "-    members:",
        "-      - {extension: \"1001\", button: 1}", "-      - extension: \"1002\"",
        "-        button: 2", '+    members: [{extension: "1001", button: 1, ring_delay: 0}]',
    ]


def test_a_value_the_tree_must_now_say_is_asked_for(run: Run,
                                                    applied: tuple[Path, Path]) -> None:
    """The portal gave Bob a client beside his desk phone: the tree does not write a MAC,
    and a multi-client user needs one. The tree is left alone, and the problem said."""
    sites, tenant = applied
    portal_edit(tenant, "UPDATE users SET devices = '[\"1030\", \"iPECS One\"]', "
                "mac = '001A2B3C4D5E' "
                "WHERE extension = '1002'")
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 1
    assert "the tree would not validate; nothing was written" in result.stderr
    assert "sites/Main/people.yaml:" in result.stderr and "[user.mac-required]" in result.stderr
    assert (sites / "Main" / "people.yaml").read_text() == MIXED


def test_a_list_download_s_changes_come_back_too(run: Run, example_sites: Path,
                                                 tmp_path: Path) -> None:
    """The portal's own export: a name changed there, and a user made there."""
    from tests.list_download_files import EXAMPLE_ROWS, workbook

    rows = [list(row) for row in EXAMPLE_ROWS]
    rows[2][2] = "test 1401 renamed"
    rows.append(["Main", "0955", "Made in portal", "Empty User Pack", "", "common",
                 "IP-DECT 110", "", "", "", "", "", "", "2022-01-01 00:00:00"])
    download = workbook(tmp_path / "list.xlsx", rows)
    users = example_sites / "Main" / "users.yaml"
    before = users.read_text()
    result = run("import", "--update", "--out", str(example_sites), "--tenant",
                 f"list-download:///{download}?tenant=Example Tenant")
    assert result.exit_code == 0, result.output
    changed = _changed_lines(before, users.read_text())
    assert changed[:2] == ["-    name: test 1401", '+    name: "test 1401 renamed"']
    assert '+  - extension: "0955"' in changed and '+    name: "Made in portal"' in changed
    assert all(line.startswith("+") for line in changed[2:])


def test_a_renumber_waiting_for_its_apply_is_refused(run: Run, applied: tuple[Path, Path]
                                                     ) -> None:
    sites, tenant = applied
    people = sites / "Main" / "people.yaml"
    renumbering = MIXED.replace('  - extension: "1002"\n',
                                '  - extension: "1012"\n    previous_extension: "1002"\n', 1
                                ).replace('      - extension: "1002"', '      - extension: "1012"')
    people.write_text(renumbering)
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 1
    assert "apply the renumber, or take it out, before --update" in result.stderr
    assert people.read_text() == renumbering


def test_a_tree_with_problems_of_its_own_is_said_as_it_is(run: Run,
                                                          applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    (sites / "Main" / "more.yaml").write_text("users:\n  - {extension: '1', name: X}\n")
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 1
    assert "sites/Main/more.yaml:2:" in result.stderr and "[numbering.format]" in result.stderr
    assert "with the tenant's values" not in result.stderr


def test_a_file_that_cannot_be_written_is_said(run: Run, applied: tuple[Path, Path]) -> None:
    sites, tenant = applied
    portal_edit(tenant, "UPDATE users SET name = 'Ann Lee' WHERE extension = '1001'")
    (sites / "Main" / ".people.yaml.update-tmp").mkdir()
    result = run("import", "--update", "--out", "sites", "--tenant", f"sqlite:///{tenant}")
    assert result.exit_code == 1
    assert "cannot write sites/Main/people.yaml:" in result.stderr
    assert "internal error" not in result.output
    assert (sites / "Main" / "people.yaml").read_text() == MIXED


def test_a_line_made_by_hand_keeps_a_member_git_forgot(run: Run, applied: tuple[Path, Path]
                                                       ) -> None:
    """Git dropped Bob while he sits on a line git does not manage: the plan would take
    him off it. --update brings Bob back, and the line too, as made by hand: nothing in
    git is edited for the line's members."""
    from tests.tenant_helpers import mark_unmanaged

    sites, tenant = applied
    mark_unmanaged(tenant, "555")
    people = sites / "Main" / "people.yaml"
    start, end = MIXED.index("  # Bob"), MIXED.index("  # Cid")
    without_bob = (MIXED[:start] + MIXED[end:]).split("shared_lines:")[0]
    people.write_text(without_bob)
    printed = _update(run, tenant)
    assert "2 resource(s) added" in printed  # Bob, and the line git never held
    assert '  - extension: "1002"\n    name: "Bob"' in people.read_text()
    line = (sites / "Main" / "shared-lines.yaml").read_text()
    assert '  - number: "555"' in line and "# made by hand" in line
