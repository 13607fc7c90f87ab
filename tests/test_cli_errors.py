"""Every user error ends in one clear message and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run, WriteTree


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_missing_config_dir(run: Run, command: str) -> None:
    result = run(command, "nowhere")
    assert result.exit_code == 1
    assert "config directory 'nowhere' does not exist" in result.stderr
    _no_traceback(result.output)


def test_config_dir_that_is_a_file(run: Run, tmp_path: Path) -> None:
    (tmp_path / "sites.yaml").write_text("users: []\n")
    result = run("plan", "sites.yaml")
    assert result.exit_code == 1
    assert "'sites.yaml' is a file, not a config directory" in result.stderr


@pytest.mark.parametrize("args", [
    ["plan", "--no-such-option"],
    ["frobnicate"],
    ["apply", "--tenant"],
    # (`plan a b` is no longer one: several config directories are several customers)
    ["plan", "a", "b", "--format", "json"],
])
def test_usage_errors_exit_1_not_2(run: Run, args: list[str]) -> None:
    # A CI gate reads 2 as "changes present"; a typo must never look like that.
    result = run(*args)
    assert result.exit_code == 1
    assert "Error" in result.stderr or "Usage" in result.stderr


def test_help_exits_0(run: Run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "validate" in result.stdout


def test_missing_tenant_yaml(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": "users: []\n"}, tenant=None)
    result = run("validate")
    assert result.exit_code == 1
    assert "sites/tenant.yaml:1:1: tenant.yaml is missing" in result.stderr


def test_yaml_syntax_error_has_position(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": "users:\n  - extension: \"1001\n    name: x\n"})
    result = run("validate")
    assert result.exit_code == 1
    assert result.stderr.startswith("sites/Main/users.yaml:2:16: a quote opened here is never "
                                    "closed; close it on the same line [yaml.syntax]")
    assert "[yaml.syntax]" in result.stderr
    _no_traceback(result.output)


def test_all_problems_reported_at_once(run: Run, write_tree: WriteTree) -> None:
    write_tree({
        "Main/a.yaml": """\
            users:
              - extension: "1"
                name: A
                package: Basic
                devices: ["1030"]
            """,
        "Main/b.yaml": """\
            shared_lines:
              - number: "20"
                colour: blue
            """,
    })
    result = run("validate")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("sites/Main/a.yaml:2:16: '1' is not a 2-5 digit number")
    assert lines[1] == "sites/Main/b.yaml:3:5: unknown field 'colour'; allowed: number, " \
        "direct_dial_number, autodial_digit, forward_to_vm, description, members, " \
        "previous_number [schema.unknown-field]"
    assert lines[-1] == "error: 2 problems found in the configuration"


@pytest.mark.parametrize("url,message", [
    ("postgres://admin:hunter2@nowhere.invalid/tenant",
     "cannot connect to tenant postgres://admin:***@nowhere.invalid/tenant"),
    ("mongodb://admin:hunter2@db/tenant", "unsupported tenant URL 'mongodb://admin:***@db/tenant'"),
    ("sqlite:///", "unsupported tenant URL"),
])
def test_bad_tenant_url(run: Run, example_sites: Path, url: str, message: str) -> None:
    result = run("plan", "--tenant", url)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "hunter2" not in result.output


def test_tenant_that_is_a_directory(run: Run, example_sites: Path, tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    result = run("apply", "--auto-approve", "--tenant", f"sqlite:///{tmp_path / 'adir'}")
    assert result.exit_code == 1
    assert "is a directory" in result.stderr
    _no_traceback(result.output)


def test_tenant_that_is_not_a_database(run: Run, example_sites: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite " * 100)
    result = run("plan", "--tenant", f"sqlite:///{junk}")
    assert result.exit_code == 1
    assert "cannot" in result.stderr and "junk.db" in result.stderr
    _no_traceback(result.output)


def test_site_file_outside_a_site_folder(run: Run, write_tree: WriteTree) -> None:
    write_tree({"stray.yaml": "users: []\n"})
    result = run("validate")
    assert result.exit_code == 1
    assert "sites/stray.yaml:1:1: 'stray.yaml' is not in a site folder" in result.stderr


def test_site_file_that_is_a_list(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": "- extension: '1001'\n"})
    result = run("validate")
    assert result.exit_code == 1
    assert "sites/Main/users.yaml:1:1: a site file is a mapping" in result.stderr


def test_empty_site_file_is_fine(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/empty.yaml": "# nothing yet\n"})
    assert run("validate").exit_code == 0


def test_empty_tenant_yaml(run: Run, write_tree: WriteTree) -> None:
    # Found by the no-traceback property test: this used to say "0 problems found".
    write_tree({}, tenant="# nothing yet\n")
    result = run("validate")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "sites/tenant.yaml:1:1: tenant.yaml is empty; it should be a mapping with tenant, "
        "platform_version, licences and packages (see README.md) [schema.type]")


def test_set_facts_before_the_tenant_exists(run: Run, example_sites: Path) -> None:
    result = run("local-tenant", "set-facts")
    assert result.exit_code == 1
    assert "does not exist yet; apply first" in result.stderr


def test_interrupted_apply_rolls_back_the_step_in_progress(
    run: Run, example_sites: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from reconciler.providers import tenant_writes

    def interrupted(*args: object) -> None:  # Ctrl-C while a new shared line gets members
        raise KeyboardInterrupt

    monkeypatch.setattr(tenant_writes, "_set_members", interrupted)
    result = run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert ("error: interrupted at step 6 of 8. 5 earlier step(s) were applied and stand; the "
            "step in progress was rolled back. Run apply again to continue") in result.stderr
    assert "Traceback" not in result.output
    with sqlite3.connect(tmp_path / ".reconciler" / "tenant.db") as db:
        lines = db.execute("SELECT count(*) FROM shared_lines").fetchone()[0]
        users = db.execute("SELECT count(*) FROM users").fetchone()[0]
    # Step 6 creates the first shared line (3000, its members set in the same
    # transaction): the five users before it stand, and no half-made line is left.
    assert (users, lines) == (5, 0)


def test_a_file_that_did_not_load_says_the_cross_file_rules_saw_only_the_rest(
        run: Run, write_tree: WriteTree) -> None:
    """A schema error hides that file's resources from the rules across files (a
    duplicate number there is not found yet): the output says so, once."""
    write_tree({"Main/good.yaml": 'users:\n  - {extension: "1001", name: A, package: Basic, '
                                  'devices: ["1030"]}\n',
                "Main/bad.yaml": 'users:\n  - {extension: "1001", name: B, package: Basic, '
                                 'devices: ["1030"], colour: red}\n'})
    for options in ((), ("--format", "json")):
        result = run("validate", *options)
        assert result.exit_code == 1
        assert result.stderr.count("the rules across files (numbers, seats, members) ran only "
                                   "on what loaded") == 1
    (Path("sites") / "Main" / "bad.yaml").write_text(
        'users:\n  - {extension: "1001", name: B, package: Basic, devices: ["1030"]}\n')
    duplicate = run("validate")
    assert "[numbering.duplicate]" in duplicate.stderr and "ran only on" not in duplicate.stderr
