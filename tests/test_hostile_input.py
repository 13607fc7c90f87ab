"""Configs come from pull requests: every file is accounted for, input is bounded, nothing
printed can steer a terminal, and secrets stay secret."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from reconciler.loading import config_tree
from tests.conftest import Run, WriteTree
from tests.processes import reconcile

USER = '  - {extension: "1001", name: Alice, package: Basic, devices: ["1030"]}\n'


def _problems(run: Run, *args: str, env: dict[str, str] | None = None) -> list[str]:
    result = run("validate", *args, env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stderr.splitlines()[:-1]


# --- 10. The config tree is what it says --------------------------------------------
def test_yaml_files_in_any_letter_case_are_read(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/a.yml": "users:\n" + USER,
                "Main/b.YAML": "hot_desk_users:\n  - {extension: \"2001\", name: H, "
                               "package: Basic}\n"})
    result = run("validate")
    assert result.exit_code == 0, result.stderr
    assert "(2 resources in 1 site(s))" in result.stdout


def test_every_other_entry_is_reported_or_ignored_by_rule(run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": "users:\n" + USER,
                        "Main/users.yaml~": "users: []\n",      # editor backup: ignored
                        "Main/.users.yaml.swp": "x",             # hidden: ignored
                        "Main/#users.yaml#": "x",                # emacs autosave: ignored
                        "Main/users.yaml.orig": "users: []\n",   # not YAML: reported
                        "Main/old/users.yaml": "users: []\n",    # a folder in a site: reported
                        "README.md": "# our phones\n"})           # reported...
    assert _problems(run) == [
        "sites/Main/old:1:1: folder 'old' inside site Main is not read: site files sit directly "
        "in sites/Main/; move its files up, or list it in .reconcilerignore [config.layout]",
        "sites/Main/users.yaml.orig:1:1: 'users.yaml.orig' is not a YAML file (.yaml or .yml) "
        "and is not read; rename it, move it out of sites/, or list it in "
        "sites/.reconcilerignore [config.layout]",
        "sites/README.md:1:1: 'README.md' is not a YAML file (.yaml or .yml) and is not read; "
        "rename it, move it out of sites/, or list it in sites/.reconcilerignore "
        "[config.layout]"]
    (sites / ".reconcilerignore").write_text("# documentation\nREADME.md\n*.orig\nMain/old/\n")
    assert run("validate").exit_code == 0


def test_a_symlink_out_of_the_tree_is_refused_unread(run: Run, write_tree: WriteTree,
                                                     tmp_path: Path) -> None:
    sites = write_tree({"Main/users.yaml": "users:\n" + USER})
    secret = tmp_path / "secret.yaml"
    secret.write_text("users:\n  - {extension: TOP-SECRET-VALUE}\n")
    (sites / "Main" / "stolen.yaml").symlink_to(secret)
    result = run("validate")
    assert result.exit_code == 1
    assert ("sites/Main/stolen.yaml:1:1: is a symbolic link leading out of the config tree; "
            "refused (copy the file in instead) [config.layout]") in result.stderr
    assert "TOP-SECRET" not in result.output


def test_a_symlink_inside_the_tree_is_followed(run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": "users:\n" + USER})
    (sites / "Branch").mkdir()
    (sites / "Branch" / "common.yaml").write_text(
        'hot_desk_users:\n  - {extension: "2001", name: H, package: Basic}\n')
    (sites / "Main" / "desks.yaml").symlink_to(sites / "Branch" / "common.yaml")
    result = run("validate")
    assert result.exit_code == 1  # read twice: the same number in two sites
    assert "[numbering.duplicate]" in result.stderr


def test_dangling_links_fifos_and_devices_are_named_never_waited_on(
        write_tree: WriteTree, tmp_path: Path) -> None:
    sites = write_tree({"Main/users.yaml": "users:\n" + USER})
    (sites / "Main" / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (sites / "Main" / "loop.yaml").symlink_to(sites / "Main" / "loop.yaml")
    os.mkfifo(sites / "Main" / "pipe.yaml")
    expected = ["sites/Main/gone.yaml:1:1: is a symbolic link to nothing",
                "sites/Main/loop.yaml:1:1: is a symbolic link that loops",
                "sites/Main/pipe.yaml:1:1: is not a regular file (a FIFO, socket or device)"]
    with contextlib.suppress(PermissionError):  # a container may forbid making devices
        os.mknod(sites / "Main" / "zero.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))
        expected.append("sites/Main/zero.yaml:1:1: is not a regular file")
    result = reconcile("validate", str(sites), cwd=tmp_path.parent, timeout=20)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    shown = f"{sites.relative_to(tmp_path.parent)}/"
    for prefix in expected:
        assert any(line.startswith(prefix.replace("sites/", shown)) for line in lines), (
            prefix, lines)


def test_a_site_folder_passed_as_the_config_directory(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": "users:\n" + USER})
    assert _problems(run, "sites/Main")[0] == (
        "sites/Main/tenant.yaml:1:1: sites/Main looks like a site folder: pass its parent, the "
        "folder holding tenant.yaml (reconcile validate sites) [config.layout]")


# --- 9. Bounded input ---------------------------------------------------------------
def test_a_file_over_the_size_limit(run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({})
    (sites / "Main").mkdir()
    with open(sites / "Main" / "big.yaml", "wb") as handle:
        handle.write(b"# " + b"x" * (64 * 1024 * 1024) + b"\n")
    assert _problems(run) == ["sites/Main/big.yaml:1:1: file is over the 64 MiB limit for one "
                              "config file; split it into several files in the site folder "
                              "[config.limits]"]


def test_too_many_files(run: Run, write_tree: WriteTree, monkeypatch: pytest.MonkeyPatch
                        ) -> None:
    monkeypatch.setattr(config_tree, "MAX_FILES", 3)
    write_tree({f"Main/{n}.yaml": "users: []\n" for n in range(5)})
    assert _problems(run) == ["sites:1:1: more than 3 site files; that is over the limit, merge "
                              "some of them [config.limits]"]


def test_deep_nesting_is_a_located_problem_not_a_crash(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/deep.yaml": "users: " + "[" * 500 + "]" * 500 + "\n"})
    problems = _problems(run)
    assert "sites/Main/deep.yaml:1:39: nested more than 32 levels deep; a config needs at " \
           "most 6 [config.limits]" in problems


def test_alias_expansion_is_bounded(run: Run, write_tree: WriteTree) -> None:
    laughs = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    write_tree({"Main/laughs.yaml": "\n".join(laughs) + "\nusers: *a9\n"})
    problems = _problems(run)
    assert "sites/Main/laughs.yaml:3:5: aliases here expand to more than 10,000 values; write " \
           "the values out, or use fewer aliases [config.limits]" in problems


def test_merge_keys_are_refused_with_the_fix(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": 'users:\n  - &base {extension: "1001", name: A, package: Basic, '
                               'devices: ["1030"]}\n  - <<: *base\n    extension: "1002"\n'})
    assert ("sites/Main/u.yaml:3:5: YAML merge keys (<<) are not supported: write the fields "
            "out in this entry (an alias for a whole value, such as `members: *team`, is fine) "
            "[yaml.merge-key]") in _problems(run)


@pytest.mark.parametrize("field,value,message", [
    ("password_rotation", "99999999999999999999999",
     "password_rotation 99999999999999999999999 is out of range; use 0 to 1,000,000 "
     "[field.range]"),
    ("name", "x" * 65, "name is 65 characters long; at most 64 are allowed [field.text]"),
    ("name", '"bad\\x1b[31mname"', "name holds control characters (\\x1b); remove them "
     "[field.text]"),
    ("call_barring", '"tab\\there"', "text holds control characters (\\x09); remove them "
     "[field.text]"),
])
def test_values_out_of_range_or_unprintable(run: Run, write_tree: WriteTree, field: str,
                                            value: str, message: str) -> None:
    user = USER if field != "name" else USER.replace("name: Alice, ", "")
    write_tree({"Main/u.yaml": "users:\n" + user.replace("devices", f"{field}: {value}, devices")})
    problems = _problems(run)
    assert any(p.endswith(message) for p in problems), problems


@pytest.mark.parametrize("where,value,message", [
    ("button", "1000", "button 1000 is not a button; number buttons from 1 to 999 "
                       "[shared_line.button]"),
    ("button", "18446744073709551616", "is not a button; number buttons from 1 to 999 "
                                       "[shared_line.button]"),
    ("seats", "10000000000000000000000", "count 10000000000000000000000 is out of range; "
                                         "use 0 to 100,000 [field.range]"),
    ("licences", "100001", "count 100001 is out of range; use 0 to 100,000 [field.range]"),
])
def test_counts_beyond_the_portal_are_validate_errors(run: Run, write_tree: WriteTree,
                                                      where: str, value: str,
                                                      message: str) -> None:
    from tests.conftest import TENANT_YAML

    tenant = TENANT_YAML
    files = {"Main/u.yaml": "users:\n" + USER}
    if where == "button":
        files["Main/l.yaml"] = ('shared_lines:\n  - number: "300"\n    members: '
                                f'[{{extension: "1001", button: {value}}}]\n')
    elif where == "seats":
        tenant = tenant.replace("Basic: 10", f"Basic: {value}")
    else:
        tenant = tenant.replace("shared_lines: 5", f"shared_lines: {value}")
    write_tree(files, tenant=tenant)
    problems = _problems(run)
    assert any(p.endswith(message) for p in problems), problems
    assert all(":" in p.split(" ")[0] for p in problems)  # each one located


def test_printed_values_escape_control_and_bidi_characters(run: Run, write_tree: WriteTree,
                                                           tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": "users:\n" + USER})
    run("apply", "--auto-approve")
    # A name made by hand in the portal, meant to repaint a terminal and reverse text.
    with contextlib.closing(sqlite3.connect(tmp_path / ".reconciler" / "tenant.db")) as db, db:
        db.execute("UPDATE users SET name = ? WHERE extension = '1001'",
                   ("Eve\x1b[2J\u202egnp.exe\r\n+ create user 9999",))
    for output_format in ("text", "markdown", "json", "runbook"):
        output = run("plan", "--format", output_format).output
        for raw in ("\x1b", "\u202e", "\r"):
            assert raw not in output, (output_format, raw)
        assert "\\u202e" in output or "\\u202E" in output, output_format
        assert "\n+ create user 9999" not in output, output_format


# --- 11. Secrets --------------------------------------------------------------------
PASSWORD_USER = USER.replace("devices", "password: {env: GITHUB_TOKEN}, devices")


def test_a_password_variable_needs_the_prefix(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": "users:\n" + PASSWORD_USER})
    assert _problems(run) == [
        "sites/Main/u.yaml:2:70: password variable GITHUB_TOKEN does not start with "
        "RECONCILER_PW_; name it RECONCILER_PW_... (e.g. RECONCILER_PW_1001): only such "
        "variables may become passwords [secrets.env-prefix]"]
    result = run("apply", "--auto-approve", env={"GITHUB_TOKEN": "ghp_secretvalue"})
    assert result.exit_code == 1
    assert "ghp_secretvalue" not in result.output


def test_the_prefix_is_set_where_apply_runs_not_in_the_config(run: Run, write_tree: WriteTree,
                                                              tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": "users:\n" + PASSWORD_USER.replace("GITHUB_TOKEN", "ACME_PW_1")})
    assert run("validate", "--secret-prefix", "ACME_PW_").exit_code == 0
    assert run("validate", env={"RECONCILER_SECRET_PREFIX": "ACME_PW_"}).exit_code == 0
    result = run("apply", "--auto-approve", "--secret-prefix", "ACME_PW_",
                 env={"ACME_PW_1": "a-Good-one1"})
    assert result.exit_code == 0, result.stderr
    sites = write_tree({"Main/u.yaml": "users:\n" + PASSWORD_USER}, tenant=None)
    (sites / "tenant.yaml").write_text((sites / "tenant.yaml").read_text()
                                       + "secret_prefix: GITHUB_\n")
    assert "unknown field 'secret_prefix'" in run("validate").stderr


@pytest.mark.parametrize("written", ["{env: hunter2 is my password}", "{env: \"p@ss w0rd!\"}",
                                     "{value: hunter2}", "hunter2hunter2"])
def test_an_invalid_reference_is_never_printed_back(run: Run, write_tree: WriteTree,
                                                    written: str) -> None:
    write_tree({"Main/u.yaml": "users:\n" + USER.replace(
        "devices", f"password: {written}, devices")})
    result = run("validate")
    assert result.exit_code == 1
    for secret in ("hunter2", "p@ss", "w0rd"):
        assert secret not in result.output


def test_a_password_of_the_wrong_length_is_refused_without_saying_its_length(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": "users:\n" + PASSWORD_USER.replace("GITHUB_TOKEN",
                                                                   "RECONCILER_PW_1")})
    for value in ("short", "x" * 23):
        result = run("apply", "--auto-approve", env={"RECONCILER_PW_1": value})
        assert result.exit_code == 1
        assert result.stderr == ("error: the password in RECONCILER_PW_1 is not 8 to 15 "
                                 "characters long, as the portal needs "
                                 "[secrets.password-length]\n")
    assert not (tmp_path / ".reconciler" / "tenant.db").exists()


def test_a_non_utf8_password_is_refused_before_the_first_write(write_tree: WriteTree,
                                                               tmp_path: Path) -> None:
    sites = write_tree({"Main/u.yaml": "users:\n" + PASSWORD_USER.replace(
        "GITHUB_TOKEN", "RECONCILER_PW_1")})
    env = {key.encode(): value.encode() for key, value in os.environ.items()
           if not key.startswith("RECONCILER_")}
    env[b"RECONCILER_PW_1"] = b"caf\xe9-latin1"
    import subprocess

    from tests.processes import RECONCILE

    result = subprocess.run([RECONCILE, "apply", "--auto-approve", str(sites), "--tenant",
                             f"sqlite:///{tmp_path / 't.db'}"], capture_output=True,
                            env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert b"the password in RECONCILER_PW_1 is not valid UTF-8 text" in result.stderr
    assert b"caf" not in result.stderr
    assert not (tmp_path / "t.db").exists()
