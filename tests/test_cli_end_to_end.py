"""The path a new user walks: validate, plan, apply the example, and a second plan is empty."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import Run


def test_example_validates(run: Run, example_sites: Path) -> None:
    result = run("validate")
    assert result.exit_code == 0, result.stderr
    assert "valid (8 resources in 1 site(s))" in result.stdout


def test_example_plan_creates_hot_desk_user_and_its_shared_line(
    run: Run, example_sites: Path
) -> None:
    result = run("plan")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "does not exist yet" in out
    assert "+ create hot_desk_user 0901" in out
    assert "+ create shared_line 555" in out
    assert "member 0901 (button 1, ring delay 0s)" in out
    assert "\nPlan: 8 to create, 0 to update, 0 to replace, 0 to delete.\n" in out
    # The hot desk user exists before the shared line that lists it.
    assert out.index("create hot_desk_user 0901") < out.index("create shared_line 555")


def test_plan_writes_nothing(run: Run, example_sites: Path, tmp_path: Path) -> None:
    """No tenant is made, and nothing is written in the checkout (the cache of
    validated files is kept in the user's cache directory)."""
    before = sorted(tmp_path.rglob("*"))
    for options in ((), ("--no-cache",)):
        assert run("plan", *options).exit_code == 0
        assert sorted(tmp_path.rglob("*")) == before


def test_apply_then_second_plan_is_empty(run: Run, example_sites: Path, tmp_path: Path) -> None:
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete: 8 change(s) applied." in applied.stdout
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    assert "No changes" in again.stdout
    with sqlite3.connect(tmp_path / ".reconciler" / "tenant.db") as db:
        members = db.execute("SELECT line, extension FROM members").fetchall()
    assert members == [("555", "0901")]


def test_detailed_exitcode_is_2_only_when_changes_exist(run: Run, example_sites: Path) -> None:
    assert run("plan", "--detailed-exitcode").exit_code == 2
    assert run("plan").exit_code == 0
    run("apply", "--auto-approve")
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_edit_after_apply_plans_an_update_with_old_and_new(run: Run, example_sites: Path) -> None:
    run("apply", "--auto-approve")
    lines = example_sites / "Main" / "shared-lines.yaml"
    lines.write_text(lines.read_text().replace('"024801030"', '"024801099"'))
    result = run("plan", "--detailed-exitcode")
    assert result.exit_code == 2
    assert "~ update shared_line 3748" in result.stdout
    assert 'direct_dial_number: "024801030" -> "024801099"' in result.stdout
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." in result.stdout


def test_tenant_option_and_environment_variable(run: Run, example_sites: Path,
                                                tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert run("apply", "--auto-approve", "--tenant", url).exit_code == 0
    assert (tmp_path / "elsewhere.db").is_file()
    from_env = run("plan", "--detailed-exitcode", env={"RECONCILER_TENANT": url})
    assert from_env.exit_code == 0, from_env.stdout
    default_tenant = run("plan", "--detailed-exitcode")
    assert default_tenant.exit_code == 2


def test_apply_asks_for_yes(run: Run, example_sites: Path, tmp_path: Path) -> None:
    refused = run("apply", input="no\n")
    assert refused.exit_code == 1
    assert "nothing was changed" in refused.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 2
    accepted = run("apply", input="yes\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_apply_without_input_is_cancelled(run: Run, example_sites: Path) -> None:
    result = run("apply", input="")
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_apply_with_nothing_to_do_succeeds(run: Run, example_sites: Path) -> None:
    run("apply", "--auto-approve")
    result = run("apply")
    assert result.exit_code == 0
    assert "No changes" in result.stdout
