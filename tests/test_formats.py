"""Format details a reviewer relies on: comment size, colour only on terminals, JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.plans import Action, Change, Plan
from reconciler.plans.reasons import ChangeReason
from reconciler.plans.serializing import plan_document
from reconciler.rendering import PlanView, markdown, text
from schema.state import Kind, ResourceKey
from tests.conftest import Run, WriteTree


def _plan(changes: int) -> Plan:
    return Plan("Big", tuple(
        Change(Action.CREATE, ResourceKey("Main", Kind.HOT_DESK_USER, f"{10000 + i}"),
               {"name": f"Desk number {i} with a long name", "package": "Basic"})
        for i in range(changes)))


def _view(plan: Plan, description: str = "sqlite:///t.db", colour: bool = False) -> PlanView:
    return PlanView(plan_document(plan, "sha256:digest", "sha256:x"), description, colour)


def test_markdown_fits_a_github_comment() -> None:
    rendered = markdown.render(_view(_plan(5000)))
    assert len(rendered) <= markdown.GITHUB_COMMENT_LIMIT
    assert "truncated: " in rendered
    assert "of 5000 changes are not shown" in rendered
    assert rendered.rstrip().endswith("Plan checksum: `sha256:x`")
    assert rendered.count("```") == 2  # the fence still closes


def test_small_markdown_is_not_truncated() -> None:
    rendered = markdown.render(_view(_plan(3)))
    assert "truncated" not in rendered
    assert "| site | kind | create | update | replace | delete |" in rendered
    assert "| `Main` | hot_desk_user | 3 | 0 | 0 | 0 |" in rendered


def test_backticks_in_values_cannot_close_the_fence() -> None:
    plan = Plan("T", (Change(Action.CREATE, ResourceKey("Main", Kind.SHARED_LINE, "300"),
                             {"description": "```not code```"}),))
    rendered = markdown.render(_view(plan, "d"))
    assert "````diff" in rendered


def test_text_colour_only_when_asked() -> None:
    plan = _plan(1)
    assert "\x1b[" in text.render(_view(plan, "d", colour=True))
    assert "\x1b[" not in text.render(_view(plan, "d", colour=False))


def test_cli_output_to_a_pipe_has_no_colour(run: Run, example_sites: Path) -> None:
    assert "\x1b[" not in run("plan").stdout


def test_json_format_is_the_saved_plan_document(run: Run, example_sites: Path,
                                                tmp_path: Path) -> None:
    printed = json.loads(run("plan", "--format", "json", "--out", "plan.json").stdout)
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert printed == saved
    assert set(printed) == {"format_version", "tool", "tenant", "config_digest", "sites",
                            "excluded_sites", "summary", "changes", "unmanaged", "ignored",
                            "needs_force", "compared", "checksum", "purchase"}
    assert set(printed["changes"][0]) == {"step", "action", "label", "site", "kind", "number",
                                          "fields", "diffs", "password_from", "replaces",
                                          "adopt", "reason", "reason_args", "note", "origin"}
    reasons = {change["reason"] for change in printed["changes"]}
    assert reasons <= {None, *(reason.value for reason in ChangeReason)}


def test_unknown_format_is_a_usage_error(run: Run, write_tree: WriteTree) -> None:
    write_tree({})
    result = run("plan", "--format", "yaml")
    assert result.exit_code == 1
    assert "Invalid value for '--format'" in result.stderr


def test_markdown_folds_long_force_reasons_and_left_alone_lists() -> None:
    keys = tuple(ResourceKey("Main", Kind.USER, f"{10000 + i}") for i in range(20_000))
    plan = Plan("Big", _plan(10).changes, unmanaged=keys[:15_000], ignored=keys[15_000:],
                needs_force=tuple(f"[Main] deleting shared_line {i} always needs --force"
                                  for i in range(5_000)))
    rendered = markdown.render(_view(plan))
    assert len(rendered) <= markdown.GITHUB_COMMENT_LIMIT
    assert "... and 4990 more reason(s) to need `--force`" in rendered
    assert "Left alone, not managed by this tool (20000): `Main/user 10000`, " in rendered
    assert ", and 19980 more" in rendered
    assert "create hot_desk_user 10009" in rendered  # the changes still fit


def test_no_color_means_present_and_not_empty(example_sites: Path, tmp_path: Path) -> None:
    """no-color.org: NO_COLOR set to anything but "" turns colour off on a terminal."""
    import os
    import pty
    import subprocess

    from tests.processes import RECONCILE, environment

    def on_a_terminal(no_color: str | None) -> bytes:
        leader, follower = pty.openpty()
        env = environment(tmp_path / "t.db")
        env.pop("NO_COLOR", None)
        if no_color is not None:
            env["NO_COLOR"] = no_color
        process = subprocess.Popen([RECONCILE, "plan", str(example_sites)], stdout=follower,
                                   stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed when the process ended
                break
            if not chunk:
                break
            output += chunk
        process.wait(timeout=30)
        os.close(leader)
        return output

    assert b"\x1b[" in on_a_terminal(None)
    assert b"\x1b[" in on_a_terminal("")
    assert b"\x1b[" not in on_a_terminal("1")


def test_a_site_move_reads_as_a_move(run: Run, write_tree: WriteTree) -> None:
    user = 'users:\n  - {extension: "3001", name: Ivy, package: Basic, devices: ["1030"]}\n'
    sites = write_tree({"Branch/u.yaml": user, "Main/u.yaml": "users: []\n"})
    run("apply", "--auto-approve")
    (sites / "Branch" / "u.yaml").write_text("users: []\n")
    (sites / "Main" / "u.yaml").write_text(user)
    out = run("plan").stdout
    assert "-/+ move user 3001 from site Branch to site Main (1 of 2: delete)" in out
    assert "-/+ move user 3001 from site Branch to site Main (2 of 2: create)" in out


USER_SETUP_FORM = ["Extension", "Name", "Site", "Group Member Type", "Portal ID",
                   "Password and Confirm password", "E-mail", "AAD ID", "Package", "User Type",
                   "Direct Dial Call Number", "Call Barring", "Outgoing Caller ID", "Device"]


def test_a_runbook_create_fills_every_field_of_the_portals_form(run: Run,
                                                                 example_sites: Path) -> None:
    steps = run("plan", "--format", "runbook").stdout.split("\n\n")
    user = next(step for step in steps if step.startswith("2. Create user 01230"))
    labels = [line.split(":")[0].removeprefix("   - ") for line in user.splitlines()
              if line.startswith("   - ")]
    assert labels == [*USER_SETUP_FORM, "MAC Address"]
    assert "   - User Type: Multi Client" in user
    line = next(step for step in steps if step.startswith("8. Create shared line 555"))
    assert [entry.split(":")[0].removeprefix("   - ") for entry in line.splitlines()
            if entry.startswith("   - ")] == ["Site", "Digit Number", "Forward to VM",
                                              "AutoDial Digit", "Direct Dial Call Number",
                                              "Description", "Member"]
    assert "   - Member: add 0901 (Button 1, Ring Option 0 s)" in line


def test_a_runbook_says_it_is_filtered_and_marks_unverified_steps(
        run: Run, write_tree: WriteTree) -> None:
    users = 'users:\n  - {extension: "1001", name: A, package: Basic, devices: ["1030"]}\n'
    sites = write_tree({"Main/u.yaml": users, "Branch/u.yaml": "users: []\nsite: {}\n"})
    run("apply", "--auto-approve")
    (sites / "Main" / "u.yaml").write_text(users.replace(
        '"1001"', '"1002", previous_extension: "1001"'))
    runbook = run("plan", "--format", "runbook", "--site", "Main").stdout
    assert "Limited to Main: changes in other sites are not in this runbook." in runbook
    assert ("   - Extension: change 1001 to 1002\n   (unverified: no public page says the "
            "portal lets you change the Extension of an existing user. If it does not, stop "
            "here: this renumber has to be a delete and a create instead, which loses the "
            "user's call recordings; plan again after deciding.)") in runbook


def test_every_reason_code_is_documented() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "plans-and-guarantees.md"
            ).read_text()
    assert [reason.value for reason in ChangeReason
            if f"| `{reason.value}` |" not in docs] == []
