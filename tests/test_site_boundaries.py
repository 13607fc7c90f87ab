"""A site that disappears needs --force, whatever its size (issue 20, point 2): a folder
renamed or deleted, or everyone moved out, is named in one line at the top of the plan
(`site Main is emptied: its 4 users move to HQ`), counting moves and replaces as well
as deletes, for users, hot desk users and shared lines alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Run, WriteTree

EMPTIED_MAIN = ("site Main is emptied: its 1 hot desk user moves to HQ, its 3 shared lines "
                "move to HQ, its 4 users move to HQ; use --force if that is meant (to rename "
                "a site, see docs/plans-and-guarantees.md: Renaming a site)")


def test_a_renamed_folder_reads_as_a_rename_and_needs_force(run: Run, example_sites: Path
                                                            ) -> None:
    assert run("apply", "--auto-approve").exit_code == 0
    shutil.move(example_sites / "Main", example_sites / "HQ")
    text = run("plan").stdout.splitlines()
    assert text[1] == f"! {EMPTIED_MAIN}"  # right under the tenant, before any change
    markdown = run("plan", "--format", "markdown").stdout
    assert markdown.index(EMPTIED_MAIN) < markdown.index("| site | kind |")
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1 and EMPTIED_MAIN in refused.output
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0


ONE_OF_EACH = {
    "user": ('users:\n  - {extension: "2001", name: Ann, package: Basic, '
             "devices: [IP-DECT 110]}\n", "its 1 user"),
    "hot desk user": ('hot_desk_users:\n  - {extension: "2002", name: Desk, package: Basic}\n',
                      "its 1 hot desk user"),
    "shared line": ('shared_lines:\n  - {number: "2500", members: [{extension: "1001"}]}\n',
                    "its 1 shared line"),
}
MAIN = ('users:\n  - {extension: "1001", name: Bob, package: Basic, devices: [IP-DECT 110], '
        'group_member_type: multi_site}\n')


@pytest.mark.parametrize("kind", ONE_OF_EACH)
@pytest.mark.parametrize("how", ["moved out", "deleted"])
def test_a_site_of_one_resource_emptied_needs_force(run: Run, write_tree: WriteTree,
                                                    kind: str, how: str) -> None:
    """The smallest site: below any percentage rail's min_resources, still refused."""
    content, its = ONE_OF_EACH[kind]
    root = write_tree({"Main/users.yaml": MAIN, "Branch/one.yaml": content})
    assert run("apply", "--auto-approve").exit_code == 0
    (root / "Branch" / "one.yaml").write_text(
        content.split(":", 1)[0] + ": []\n")  # Branch keeps its folder, not the resource
    if how == "moved out":
        (root / "Main" / "moved.yaml").write_text(content)
    plan = run("plan").stdout.splitlines()
    expected = {"moved out": {"user": "moves to Main", "hot desk user": "moves to Main",
                              "shared line": "moves to Main"}[kind],
                "deleted": "is deleted"}[how]
    assert plan[1].startswith(f"! site Branch is emptied: {its} {expected}; use --force")
    assert run("apply", "--auto-approve").exit_code == 1
    assert run("apply", "--auto-approve", "--force").exit_code == 0


def test_a_site_that_keeps_someone_is_not_emptied(run: Run, write_tree: WriteTree) -> None:
    root = write_tree({"Main/users.yaml": MAIN, "Branch/users.yaml": ONE_OF_EACH["user"][0]
                       + '  - {extension: "2003", name: Cy, package: Basic, '
                         "devices: [IP-DECT 110]}\n"})
    assert run("apply", "--auto-approve").exit_code == 0
    (root / "Branch" / "users.yaml").write_text(
        'users:\n  - {extension: "2003", name: Cy, package: Basic, devices: [IP-DECT 110]}\n')
    (root / "Main" / "ann.yaml").write_text(ONE_OF_EACH["user"][0])
    plan = run("plan")
    assert "is emptied" not in plan.stdout
    assert run("apply", "--auto-approve").exit_code == 0


# --- a move keeps everything the tenant holds (issue 20, point 1) -----------------

ANN = ('users:\n  - {extension: "2001", name: Ann, package: Basic, devices: ["1030"], '
       'mac: "001A2B3C4D5E", email: ann@example.com, portal_id: ann@acme'
       ", password: {env: RECONCILER_PW_2001}}\n")
ANN_SHORT = 'users:\n  - {extension: "2001", name: Ann, package: Basic, devices: ["1030"]}\n'


def test_a_move_carries_the_fields_the_config_stopped_managing(
        run: Run, write_tree: WriteTree, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Omitted means leave it alone: a user moved to another site, whose e-mail, MAC
    and portal ID the config no longer names, keeps them there; the plan says so, and
    that its password must be entered again."""
    monkeypatch.setenv("RECONCILER_PW_2001", "Secret-2001x")
    root = write_tree({"Main/users.yaml": MAIN,
                       "Branch/users.yaml": ANN})
    assert run("apply", "--auto-approve").exit_code == 0
    (root / "Branch" / "users.yaml").write_text("users: []\n")
    (root / "Main" / "ann.yaml").write_text(ANN_SHORT)  # moved, three fields omitted
    plan = run("plan")
    assert ('mac "001A2B3C4D5E"' in plan.stdout and 'email "ann@example.com"' in plan.stdout
            and 'portal_id "ann@acme"' in plan.stdout)
    assert ("carries email, mac, portal_id from site Branch (not in the config: kept as the "
            "tenant holds them)") in plan.stdout
    assert "its password is not carried: enter one again in the portal" in plan.stdout
    runbook = run("plan", "--format", "runbook").stdout
    assert "- E-mail: ann@example.com" in runbook
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0
    from reconciler.providers import SqliteTenant
    from schema.state import Kind, ResourceKey

    held = SqliteTenant(tmp_path / ".reconciler" / "tenant.db").read_state().resources
    moved = held[ResourceKey("Main", Kind.USER, "2001")]
    assert moved["email"] == "ann@example.com" and moved["mac"] == "001A2B3C4D5E"


def test_a_shared_line_moved_to_another_site_is_one_move_and_keeps_its_description(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    line = ('shared_lines:\n  - {number: "2500", description: Front desk, '
            'members: [{extension: "1001"}]}\n')
    root = write_tree({"Main/users.yaml": MAIN, "Branch/lines.yaml": line})
    assert run("apply", "--auto-approve").exit_code == 0
    (root / "Branch" / "lines.yaml").write_text("shared_lines: []\n")
    (root / "Main" / "lines.yaml").write_text(
        'shared_lines:\n  - {number: "2500", members: [{extension: "1001"}]}\n')
    plan = run("plan").stdout
    assert "-/+ move shared_line 2500 from site Branch to site Main (2 of 2: create)" in plan
    assert "carries description from site Branch" in plan
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0
    from reconciler.providers import SqliteTenant
    from schema.state import Kind, ResourceKey

    held = SqliteTenant(tmp_path / ".reconciler" / "tenant.db").read_state().resources
    assert held[ResourceKey("Main", Kind.SHARED_LINE, "2500")]["description"] == "Front desk"
