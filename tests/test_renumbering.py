"""previous_extension / previous_number renumber in place, keeping memberships."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import Run, WriteTree
from tests.tenant_helpers import mark_unmanaged

DB = Path(".reconciler/tenant.db")
USERS = """\
users:
  - {extension: "101", name: A, package: Basic, devices: ["1030"]}
  - {extension: "102", name: B, package: Basic, devices: ["1030"]}
shared_lines:
  - number: "300"
    members: [{extension: "101", button: 1}, {extension: "102", button: 2}]
"""


def _members(tmp_path: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(tmp_path / DB) as db:
        return sorted(db.execute("SELECT line, extension, button "
                                 "FROM members"))


def test_renumber_keeps_the_user_and_its_memberships(run: Run, write_tree: WriteTree,
                                                      tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace(
        '{extension: "101", name: A', '{extension: "151", previous_extension: "101", name: A'
    ).replace('{extension: "101", button: 1}', '{extension: "151", button: 1}')})
    plan = run("plan")
    assert "  ~ renumber user 101 to 151  # sites/Main/u.yaml:2" in plan.stdout
    assert "delete" not in plan.stdout.split("Plan:")[0]
    assert "\nPlan: 0 to create, 0 to update, 1 to renumber, 0 to replace, 0 to delete.\n" \
        in plan.stdout
    assert run("apply", "--auto-approve").exit_code == 0
    assert _members(tmp_path) == [("300", "102", 2), ("300", "151", 1)]
    # previous_extension may stay in the YAML: the next plan is empty.
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_swap_goes_through_a_temporary_number(run: Run, write_tree: WriteTree,
                                              tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    swapped = USERS.replace('{extension: "101", name: A',
                            '{extension: "102", previous_extension: "101", name: A').replace(
        '{extension: "102", name: B', '{extension: "101", previous_extension: "102", name: B')
    swapped = swapped.replace('[{extension: "101", button: 1}, {extension: "102", button: 2}]',
                              '[{extension: "102", button: 1}, {extension: "101", button: 2}]')
    write_tree({"Main/u.yaml": swapped})
    out = run("plan").stdout
    assert ("  ~ renumber user 101 to 99999  # sites/Main/u.yaml:2  (temporary number, so that "
            "102 can be freed)\n  ~ renumber user 102 to 101  # sites/Main/u.yaml:3\n"
            "  ~ renumber user 99999 to 102  # sites/Main/u.yaml:2\n") in out
    assert run("apply", "--auto-approve").exit_code == 0
    with sqlite3.connect(tmp_path / DB) as db:
        names = dict(db.execute("SELECT extension, name FROM users"))
    assert names == {"102": "A", "101": "B"}
    assert _members(tmp_path) == [("300", "101", 2), ("300", "102", 1)]
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_renumber_a_shared_line(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace('- number: "300"',
                                             '- number: "400"\n    previous_number: "300"')})
    assert "~ renumber shared_line 300 to 400" in run("plan").stdout
    assert run("apply", "--auto-approve").exit_code == 0
    assert _members(tmp_path) == [("400", "101", 1), ("400", "102", 2)]


def test_previous_number_also_declared_is_an_error(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace('{extension: "101", name: A',
                                             '{extension: "151", previous_extension: "102", '
                                             'name: A').replace(
        '{extension: "101", button: 1}', '{extension: "151", button: 1}')})
    result = run("validate")
    assert result.exit_code == 1
    assert "previous_extension 102 is also declared as a resource" in result.stderr


def test_taking_over_a_leavers_number_deletes_then_renumbers(run: Run, write_tree: WriteTree,
                                                            tmp_path: Path) -> None:
    """One pull request: 102 leaves, and 101 takes its number."""
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace(
        '  - {extension: "102", name: B, package: Basic, devices: ["1030"]}\n', "").replace(
        '{extension: "101", name: A', '{extension: "102", previous_extension: "101", name: A'
    ).replace('[{extension: "101", button: 1}, {extension: "102", button: 2}]',
              '[{extension: "102", button: 1}]')})
    plan = run("plan")
    assert plan.exit_code == 0, plan.stderr
    steps = [line.split("  #")[0].strip() for line in plan.stdout.splitlines()
             if line.startswith("  ") and line.strip()[:1] in "~-+"]
    assert steps == ["~ update shared_line 300", "- delete user 102",
                     "~ renumber user 101 to 102"]
    assert run("apply", "--auto-approve").exit_code == 0
    assert _members(tmp_path) == [("300", "102", 1)]
    with sqlite3.connect(tmp_path / DB) as db:
        assert db.execute("SELECT name FROM users").fetchall() == [("A",)]
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_a_renumber_never_overwrites_a_hand_made_user(run: Run, write_tree: WriteTree,
                                                      tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "102")
    write_tree({"Main/u.yaml": USERS.replace(
        '  - {extension: "102", name: B, package: Basic, devices: ["1030"]}\n', "").replace(
        '{extension: "101", name: A', '{extension: "102", previous_extension: "101", name: A'
    ).replace('[{extension: "101", button: 1}, {extension: "102", button: 2}]',
              '[{extension: "102", button: 1}]')})
    result = run("plan")
    assert result.exit_code == 1
    assert ("sites/Main/u.yaml:2:44: user 101 cannot be renumbered to 102: user 102 is there "
            "and was made by hand (this tool does not manage it); delete it in the portal, or "
            "set prune: true on site Main so this tool deletes it first, or choose a free number "
            "[renumber.target-exists]") in result.stderr


def test_renumbered_user_cannot_sneak_a_downgrade(run: Run, write_tree: WriteTree) -> None:
    # Found by the property test: the downgrade rule must follow the renumber.
    write_tree({"Main/u.yaml": USERS.replace("name: A, package: Basic", "name: A, package: "
                                             "Premium")})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace(
        '{extension: "101", name: A', '{extension: "151", previous_extension: "101", name: A'
    ).replace('{extension: "101", button: 1}', '{extension: "151", button: 1}')})
    result = run("plan")
    assert result.exit_code == 1
    assert "user 151 is on package 'Premium'; moving it to 'Basic' is a downgrade" \
        in result.stderr


def test_detach_before_renumber_names_members_by_their_old_numbers(
    run: Run, write_tree: WriteTree, tmp_path: Path
) -> None:
    # Found by the property test: 101 is renumbered while 102 is replaced, on one line.
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    changed = USERS.replace('{extension: "101", name: A',
                            '{extension: "151", previous_extension: "101", name: A').replace(
        '{extension: "101", button: 1}', '{extension: "151", button: 1}').replace(
        '  - {extension: "102", name: B, package: Basic, devices: ["1030"]}\n', "")
    write_tree({"Main/u.yaml": changed + 'hot_desk_users:\n  - {extension: "102", name: B, '
                                         "package: Basic}\n"})
    result = run("apply", "--auto-approve", "--force")
    assert result.exit_code == 0, result.stderr
    assert _members(tmp_path) == [("300", "102", 2), ("300", "151", 1)]
    assert run("plan", "--detailed-exitcode").exit_code == 0
