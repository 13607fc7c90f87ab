"""Plans that catch the operator's slips: truncated files, small sites, hand-made and
ignored resources, write-only fields."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from tests.conftest import TENANT_YAML, Run, WriteTree
from tests.tenant_helpers import mark_unmanaged, portal_edit

DB = Path(".reconciler/tenant.db")
USERS = """\
users:
  - {extension: "1001", name: A, package: Basic, devices: ["1030"]}
  - {extension: "1002", name: B, package: Basic, devices: ["1030"]}
  - {extension: "1003", name: C, package: Basic, devices: ["1030"]}
"""


def _query(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(tmp_path / DB)) as db:
        return db.execute(sql).fetchall()


def _hand_made(tmp_path: Path, number: str, package: str = "Basic", site: str = "Main") -> None:
    portal_edit(tmp_path / DB, "INSERT INTO users (extension, site, kind, name, package, "
                               "devices) VALUES (?, ?, 'user', 'Hand', ?, '[\"1030\"]')",
                number, site, package)


# --- 1. No file is skipped in silence -------------------------------------------------
def test_validate_counts_files_and_resources_per_site_and_warns_of_empty_files(
        run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": USERS, "Main/settings.yaml": "site: {prune: false}\n",
                "Main/lines.yaml": "# emptied by mistake\n",
                "Branch/users.yaml": 'users:\n  - {extension: "2001", name: D, package: Basic, '
                                     'devices: ["1030"]}\n'})
    result = run("validate")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["sites: valid (4 resources in 2 site(s)).",
                                          "  Branch: 1 file(s), 1 resource(s)",
                                          "  Main: 3 file(s), 3 resource(s)"]
    assert result.stderr == (
        "sites/Main/lines.yaml:1:1: warning: this site file declares nothing; an emptied or "
        "truncated file deletes what it held (removing every managed resource of a kind from "
        "a site needs --force); delete the file if that is meant [config.empty-file]\n")


# --- 2. Rails that protect small sites --------------------------------------------------
def test_emptying_a_small_sites_file_needs_force(run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": USERS})
    run("apply", "--auto-approve")
    (sites / "Main" / "users.yaml").write_text("users: []\n")  # truncated on save
    plan = run("plan")
    assert ("! apply needs --force: [Main] every managed user of the site would be deleted "
            "(3); an emptied or truncated file does this; use --force if that is meant") \
        in plan.stdout
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1 and "refusing to apply" in refused.stderr
    assert run("apply", "--auto-approve", "--force").exit_code == 0


def test_deleting_a_site_folder_needs_force(run: Run, write_tree: WriteTree,
                                            tmp_path: Path) -> None:
    sites = write_tree({"Main/users.yaml": USERS,
                        "Branch/u.yaml": 'users:\n  - {extension: "2001", name: D, '
                                         'package: Basic, devices: ["1030"]}\n'})
    run("apply", "--auto-approve")
    (sites / "Branch" / "u.yaml").unlink()
    (sites / "Branch").rmdir()
    result = run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "[Branch] every managed user of the site would be deleted (1)" in result.stderr
    assert len(_query(tmp_path, "SELECT * FROM users")) == 4


def test_pruned_deletes_count_against_every_resource_of_the_site(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = TENANT_YAML.replace("Basic: 10", "Basic: 20")
    write_tree({"Main/users.yaml": USERS}, tenant=tenant)
    run("apply", "--auto-approve")
    for number in range(1010, 1022):  # twelve made by hand
        _hand_made(tmp_path, str(number))
    write_tree({"Main/users.yaml": "site: {prune: true}\n" + USERS}, tenant=tenant)
    plan = run("plan")
    assert ("[Main] 12 of 15 users (80.0%) would be deleted or replaced; over the 30.0% "
            "limit; use --force") in plan.stdout


# --- 3. Renumbers: another kind is a replace ---------------------------------------------
def test_a_previous_number_of_another_kind_is_a_replace(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": 'hot_desk_users:\n  - {extension: "2001", name: H, '
                               "package: Basic}\n"})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": 'users:\n  - {extension: "2002", previous_extension: "2001", '
                               'name: H, package: Basic, devices: ["1030"]}\n'})
    plan = run("plan")
    assert plan.exit_code == 0, plan.stderr
    assert ("-/+ replace hot_desk_user 2001 with user 2002 (1 of 2: delete)\n      ! a user's "
            "type cannot change in place [user.kind-change]; download its call recordings "
            "before applying") in plan.stdout
    assert "-/+ replace hot_desk_user 2001 with user 2002 (2 of 2: create)" in plan.stdout
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0


# --- 5. Counts include what the tool does not manage -----------------------------------
def test_seats_count_hand_made_users(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = TENANT_YAML.replace("Basic: 10", "Basic: 4")
    write_tree({"Main/users.yaml": USERS}, tenant=tenant)
    run("apply", "--auto-approve")
    _hand_made(tmp_path, "1010")
    write_tree({"Main/users.yaml": USERS + '  - {extension: "1004", name: E, package: Basic, '
                                           'devices: ["1030"]}\n'}, tenant=tenant)
    result = run("plan")
    assert result.exit_code == 1
    assert ("sites/tenant.yaml:7:10: package 'Basic' has 4 seats; 4 declared users and 1 this "
            "tool leaves alone (1010 in Main) need 5; move users to another package, delete "
            "some in the portal (or set prune: true on their site), or buy seats "
            "[licences.package-seats]") in result.stderr


def test_shared_line_licences_count_hand_made_lines(run: Run, write_tree: WriteTree,
                                                     tmp_path: Path) -> None:
    tenant = TENANT_YAML.replace("shared_lines: 5", "shared_lines: 2")
    write_tree({"Main/users.yaml": USERS + 'shared_lines:\n  - {number: "600"}\n'},
               tenant=tenant)
    run("apply", "--auto-approve")
    portal_edit(tmp_path / DB, "INSERT INTO shared_lines (number, site) VALUES ('601', 'Main')")
    write_tree({"Main/users.yaml": USERS + 'shared_lines:\n  - {number: "600"}\n'
                                           '  - {number: "602"}\n'}, tenant=tenant)
    result = run("plan")
    assert result.exit_code == 1
    assert ("the tenant has 2 shared-line licences; 2 declared shared lines and 1 this tool "
            "leaves alone (601 in Main) need 3") in result.stderr


# --- 6. Ignored means never touched -----------------------------------------------------
def test_deleting_a_member_of_an_ignored_line_is_refused(run: Run, write_tree: WriteTree,
                                                         tmp_path: Path) -> None:
    write_tree({"Main/users.yaml": USERS + 'shared_lines:\n  - number: "600"\n'
                                           '    members: [{extension: "1003", button: 1}]\n'})
    run("apply", "--auto-approve")
    write_tree({"Main/users.yaml": "site: {ignore: ['600']}\n" + USERS.replace(
        '  - {extension: "1003", name: C, package: Basic, devices: ["1030"]}\n', "")})
    result = run("plan")
    assert result.exit_code == 1
    assert ("sites/Main/users.yaml:1:16: shared_line 600 in site Main is ignored (site.ignore), "
            "but user 1003, a member of it, is being deleted, and a member must leave the line "
            "first; this tool never edits an ignored resource: remove 1003 from shared_line "
            "600 in the portal first, take 600 out of site.ignore, or keep 1003 in the config "
            "[ownership.ignored-edit]") in result.stderr
    assert _query(tmp_path, "SELECT line, extension FROM members") == [
        ("600", "1003")]


def test_ignored_resources_are_listed_in_the_plan(run: Run, write_tree: WriteTree,
                                                  tmp_path: Path) -> None:
    write_tree({"Main/users.yaml": USERS})
    run("apply", "--auto-approve")
    _hand_made(tmp_path, "1090")
    write_tree({"Main/users.yaml": "site: {ignore: ['109*']}\n" + USERS})
    plan = run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0
    assert "  Main: user 1090  # ignored" in plan.stdout


# --- 7. Write-only fields are never forgotten -----------------------------------------
def test_adding_a_password_to_an_existing_user_sets_it(run: Run, write_tree: WriteTree,
                                                       tmp_path: Path) -> None:
    write_tree({"Main/users.yaml": USERS})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "1002")  # and one made by hand, adopted now
    with_passwords = USERS.replace("name: A,", "name: A, password: {env: RECONCILER_PW_A},")\
        .replace("name: B,", "name: B, password: {env: RECONCILER_PW_B},")
    write_tree({"Main/users.yaml": with_passwords})
    plan = run("plan")
    assert "~ update user 1001  # sites/Main/users.yaml:2\n      password: (sensitive, will " \
           "be set) from $RECONCILER_PW_A" in plan.stdout
    assert "~ adopt user 1002  # sites/Main/users.yaml:3\n      password: (sensitive, will be " \
           "set) from $RECONCILER_PW_B" in plan.stdout
    env = {"RECONCILER_PW_A": "first-Secret1", "RECONCILER_PW_B": "second-Secret2"}
    assert run("apply", "--auto-approve", env=env).exit_code == 0
    assert _query(tmp_path, "SELECT extension, password_from FROM users ORDER BY extension") \
        == [("1001", "$RECONCILER_PW_A"), ("1002", "$RECONCILER_PW_B"), ("1003", None)]
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_a_swaps_temporary_number_avoids_feature_codes_and_ignored_numbers(
        run: Run, write_tree: WriteTree) -> None:
    tenant = TENANT_YAML + "feature_codes: {acd_log_on: \"99\"}\n"
    write_tree({"Main/users.yaml": USERS}, tenant=tenant)
    run("apply", "--auto-approve")
    swapped = USERS.replace('"1001", name: A', '"1002", previous_extension: "1001", name: A')\
        .replace('"1002", name: B', '"1001", previous_extension: "1002", name: B')
    write_tree({"Main/users.yaml": "site: {ignore: ['98*']}\n" + swapped}, tenant=tenant)
    plan = run("plan")
    assert "~ renumber user 1001 to 97999  # sites/Main/users.yaml:3  (temporary number, so " \
           "that 1002 can be freed)" in plan.stdout
    assert run("apply", "--auto-approve").exit_code == 0


def test_dropping_the_desk_phone_clears_the_mac(run: Run, write_tree: WriteTree,
                                                tmp_path: Path) -> None:
    multi = ('users:\n  - {extension: "1001", name: A, package: Basic, devices: ["1030", '
             '"iPECS One"], mac: "001A2B3C4D01"}\n')
    write_tree({"Main/users.yaml": multi})
    run("apply", "--auto-approve")
    write_tree({"Main/users.yaml": multi.replace('["1030", "iPECS One"], mac: "001A2B3C4D01"',
                                                 '["iPECS One"]')})
    plan = run("plan")
    assert '      mac: "001A2B3C4D01" -> null' in plan.stdout
    assert run("apply", "--auto-approve").exit_code == 0
    assert _query(tmp_path, "SELECT mac, devices FROM users") == [(None, '["iPECS One"]')]
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_reordering_devices_is_not_a_change(run: Run, write_tree: WriteTree) -> None:
    multi = ('users:\n  - {extension: "1001", name: A, package: Basic, devices: ["1030", '
             '"iPECS One"], mac: "001A2B3C4D01"}\n')
    write_tree({"Main/users.yaml": multi})
    run("apply", "--auto-approve")
    write_tree({"Main/users.yaml": multi.replace('["1030", "iPECS One"]', '["iPECS One", "1030"]')})
    assert run("plan", "--detailed-exitcode").exit_code == 0


# --- 4. Site filters keep plans applicable ----------------------------------------------
BRANCH = 'users:\n  - {extension: "3001", name: Ivy, package: Basic, devices: ["1030"]}\n'


def test_a_site_filter_never_leaves_out_a_step_its_changes_need(run: Run,
                                                                write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": USERS, "Branch/users.yaml": BRANCH})
    run("apply", "--auto-approve")
    # Ivy moves from Branch to Main: deleted there, created here.
    (sites / "Branch" / "users.yaml").write_text("users: []\nsite: {prune: false}\n")
    (sites / "Main" / "users.yaml").write_text(USERS + BRANCH.removeprefix("users:\n"))
    result = run("plan", "--site", "Main")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the site filter leaves out 1 step(s) in other sites that the chosen sites' "
        "changes need:\n  replace user 3001 (Branch) before replace user 3001 (Main) "
        "(number 3001)\n  add those sites to --site (or drop the --exclude-site), or plan "
        "without site filters\n")
    assert run("apply", "--auto-approve", "--site", "Main").exit_code == 1
    # Ivy was Branch's only user: the site is emptied, which wants --force (issue 20).
    both = ("apply", "--auto-approve", "--site", "Main", "--site", "Branch")
    refused = run(*both)
    assert refused.exit_code == 1 and "site Branch is emptied: its 1 user moves to Main" in \
        refused.output
    assert run(*both, "--force").exit_code == 0


def test_a_site_filter_never_keeps_half_of_a_move_between_sites(run: Run,
                                                                 write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": USERS, "Branch/users.yaml": BRANCH})
    run("apply", "--auto-approve")
    # Ivy moves from Branch to Main under a new number: one replace across two sites.
    (sites / "Branch" / "users.yaml").write_text("users: []\nsite: {prune: false}\n")
    (sites / "Main" / "users.yaml").write_text(USERS + BRANCH.removeprefix("users:\n").replace(
        '"3001",', '"3002", previous_extension: "3001",'))
    result = run("plan", "--site", "Branch")
    assert result.exit_code == 1
    assert "leaves out 1 step(s)" in result.stderr
    assert "replace user 3002 (Main) with replace user 3001 (Branch) (one replace: the user " \
        "moves from site Branch to Main)" in result.stderr
    assert run("apply", "--auto-approve", "--site", "Branch").exit_code == 1
    assert "user 3001" in run("plan", "--site", "Main", "--site", "Branch").stdout
    assert run("apply", "--auto-approve", "--site", "Main", "--site", "Branch",
               "--force").exit_code == 0  # Branch's only user leaves: the site is emptied
    assert run("plan", "--detailed-exitcode", "--site", "Branch").exit_code == 0


def test_a_member_created_in_another_site_is_a_needed_step(run: Run,
                                                           write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": USERS, "Branch/users.yaml": "users: []\n"})
    run("apply", "--auto-approve")
    (sites / "Branch" / "users.yaml").write_text(BRANCH.replace("devices", "group_member_type: "
                                                                "multi_site, devices"))
    (sites / "Main" / "lines.yaml").write_text(
        'shared_lines:\n  - number: "600"\n    members: [{extension: "3001", button: 1}]\n')
    result = run("plan", "--site", "Main")
    assert result.exit_code == 1
    assert "create user 3001 (Branch) before create shared_line 600 (Main) (number 3001)" \
        in result.stderr
    assert run("plan", "--exclude-site", "Main").exit_code == 0  # Branch alone needs nothing


def test_validate_and_plan_agree_on_a_filtered_run(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": USERS,
                "Branch/users.yaml": 'users:\n  - {extension: "3001", nmae: Ivy}\n'})
    validate = run("validate", "--site", "Main")
    assert validate.exit_code == 0, validate.stderr
    assert validate.stdout.startswith("sites: valid for the chosen sites (3 resources in ")
    plan = run("plan", "--site", "Main")
    assert plan.exit_code == 0, plan.stderr
    assert "create user 1001" in plan.stdout and "3001" not in plan.stdout
    for command in ("validate", "plan"):
        assert run(command, "--site", "Branch").exit_code == 1
        unknown = run(command, "--site", "Nowhere")
        assert unknown.exit_code == 1
        assert "error: no site named Nowhere; sites are: Branch, Main" in unknown.stderr


# --- 8. Messages that name the fix, in the user's words ----------------------------------
def _first_problem(run: Run, write_tree: WriteTree, text: str) -> str:
    write_tree({"Main/users.yaml": text})
    result = run("validate")
    assert result.exit_code == 1
    return result.stderr.splitlines()[0]


def test_a_tab_in_the_indentation(run: Run, write_tree: WriteTree) -> None:
    assert _first_problem(run, write_tree, 'users:\n\t- {extension: "1001"}\n') == (
        "sites/Main/users.yaml:2:1: a tab is used for indentation here; YAML indents with "
        "spaces only: replace the tab with spaces [yaml.syntax]")


def test_a_line_that_does_not_line_up(run: Run, write_tree: WriteTree) -> None:
    text = 'users:\n  - extension: "1001"\n     name: A\n'
    assert _first_problem(run, write_tree, text) == (
        "sites/Main/users.yaml:3:6: this line does not line up with the lines above it: the "
        "fields of one entry start at the same column; fix its indentation (spaces only) "
        "[yaml.syntax]")
    text = 'users:\n  - extension: "1001"\n   name: A\n'
    assert _first_problem(run, write_tree, text) == (
        "sites/Main/users.yaml:3:4: this line does not line up: list items start with '- ' at "
        "the same column, and the fields of an entry line up under its first field; fix the "
        "indentation (spaces only) [yaml.syntax]")


def test_yes_where_a_boolean_belongs(run: Run, write_tree: WriteTree) -> None:
    assert _first_problem(run, write_tree, 'shared_lines:\n  - {number: "600", '
                                           'forward_to_vm: yes}\n') == (
        "sites/Main/users.yaml:2:36: forward_to_vm is true or false; write true or false "
        "(yes, no, on and off are text here) [schema.type]")


def test_an_empty_members_list(run: Run, write_tree: WriteTree) -> None:
    assert _first_problem(run, write_tree, 'shared_lines:\n  - number: "600"\n    members:\n') \
        == ("sites/Main/users.yaml:3:13: members is empty; write `members: []` for none, or "
            "list them under it [schema.type]")


def test_a_misspelt_field_is_one_problem_and_a_missing_one_another(
        run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": 'users:\n  - {extension: "1001", nmae: A, package: Basic, '
                                   'devices: ["1030"]}\n  - {extension: "1002", package: Basic, '
                                   'devices: ["1030"]}\n'})
    lines = run("validate").stderr.splitlines()
    assert lines[:2] == [
        "sites/Main/users.yaml:2:25: unknown field 'nmae'; did you mean 'name'? "
        "[schema.unknown-field]",
        "sites/Main/users.yaml:3:5: required field 'name' is missing; add it "
        "[schema.missing-field]"]
