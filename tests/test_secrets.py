"""Passwords are references: plans never read them, applies read them before any write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reconciler.providers.password_hashing import password_matches
from reconciler.rendering import RENDERERS
from tests.conftest import Run, WriteTree

USERS = """\
users:
  - extension: "1001"
    name: Alice
    package: Basic
    devices: ["1030"]
    password: {env: RECONCILER_PW_ALICE}
"""
SECRET = "s3cret-Value1"


def test_plan_needs_no_secret_and_names_the_variable(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    result = run("plan", env={"RECONCILER_PW_ALICE": SECRET})
    assert result.exit_code == 0
    assert "password (sensitive, will be set) from $RECONCILER_PW_ALICE" in result.stdout
    assert SECRET not in result.output
    assert run("plan", env={"RECONCILER_PW_ALICE": None}).exit_code == 0  # type: ignore[dict-item]


def test_apply_with_missing_variable_writes_nothing(run: Run, write_tree: WriteTree,
                                                    tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    result = run("apply", "--auto-approve", env={"RECONCILER_PW_ALICE": None})  # type: ignore[dict-item]
    assert result.exit_code == 1
    assert "error: environment variable RECONCILER_PW_ALICE is not set; export it before apply" \
        in result.stderr
    assert not (tmp_path / ".reconciler" / "tenant.db").exists()


def test_apply_sets_the_password_without_printing_it(run: Run, write_tree: WriteTree,
                                                     tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    result = run("apply", "--auto-approve", env={"RECONCILER_PW_ALICE": SECRET})
    assert result.exit_code == 0, result.stderr
    assert SECRET not in result.output
    db = tmp_path / ".reconciler" / "tenant.db"
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT password_hash FROM users").fetchone()[0]
    assert password_matches(SECRET, stored)
    assert SECRET.encode() not in db.read_bytes()
    # The portal never returns a password: the next plan has nothing to say about it.
    env = {"RECONCILER_PW_ALICE": "another-one1"}
    assert run("plan", "--detailed-exitcode", env=env).exit_code == 0


def test_password_length_is_checked_at_apply_without_echo(run: Run, write_tree: WriteTree
                                                          ) -> None:
    write_tree({"Main/u.yaml": USERS})
    result = run("apply", "--auto-approve", env={"RECONCILER_PW_ALICE": "short"})
    assert result.exit_code == 1
    assert "the password in RECONCILER_PW_ALICE is not 8 to 15 characters long" \
        in result.stderr
    assert "short\n" not in result.output and "'short'" not in result.output


def test_password_rotation_sets_it_again(run: Run, write_tree: WriteTree, tmp_path: Path
                                         ) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve", env={"RECONCILER_PW_ALICE": SECRET})
    write_tree({"Main/u.yaml": USERS + "    password_rotation: 1\n"})
    plan = run("plan", env={"RECONCILER_PW_ALICE": "rotated-Value2"})
    assert "password_rotation: 0 -> 1" in plan.stdout
    assert "password: (sensitive, will be set) from $RECONCILER_PW_ALICE" in plan.stdout
    env = {"RECONCILER_PW_ALICE": "rotated-Value2"}
    assert run("apply", "--auto-approve", env=env).exit_code == 0
    with sqlite3.connect(tmp_path / ".reconciler" / "tenant.db") as connection:
        stored = connection.execute("SELECT password_hash FROM users").fetchone()[0]
    assert password_matches("rotated-Value2", stored)
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_rotation_without_password_is_an_error(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace("    password: {env: RECONCILER_PW_ALICE}\n",
                                             "    password_rotation: 2\n")})
    result = run("validate")
    assert result.exit_code == 1
    assert "sites/Main/u.yaml:6:24: password_rotation asks to set the password again, but " \
           "there is no password" in result.stderr


def test_no_format_or_file_holds_a_password(run: Run, write_tree: WriteTree,
                                            tmp_path: Path) -> None:
    env = {"RECONCILER_PW_ALICE": SECRET}
    write_tree({"Main/u.yaml": USERS})
    outputs = [run("plan", "--format", fmt, "--out", f"plan-{fmt}.json", env=env).output
               for fmt in RENDERERS]
    outputs.append(run("apply", "--auto-approve", env=env).output)
    write_tree({"Main/u.yaml": USERS + "    password_rotation: 1\n"})
    outputs += [run("plan", "--format", fmt, env=env).output
                for fmt in RENDERERS]
    outputs.append(run("apply", "--auto-approve", env=env).output)
    assert all(SECRET not in output for output in outputs)
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes(), file


def test_hashes_are_memory_hard_and_old_ones_still_verify() -> None:
    import hashlib

    from reconciler.providers.password_hashing import hash_password

    stored = hash_password(SECRET)
    assert stored.startswith("scrypt$256$8$1$") and SECRET not in stored
    assert password_matches(SECRET, stored) and not password_matches(SECRET + "x", stored)
    salt = bytes(range(16))
    old = (f"pbkdf2_sha256$50000${salt.hex()}$"
           + hashlib.pbkdf2_hmac("sha256", SECRET.encode(), salt, 50_000).hex())
    assert password_matches(SECRET, old) and not password_matches("wrong-pass", old)
    assert not password_matches(SECRET, "md5$" + salt.hex())


def test_every_password_of_a_long_apply_is_stored_for_its_own_user(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    """Hashed ahead of the steps, in a window: past the window, with users without a
    password in between, each user still gets the hash of its own password."""
    entries = []
    for n in range(700):
        password = f"\n    password: {{env: RECONCILER_PW_U{n}}}" if n % 3 else ""
        entries.append(f'  - extension: "{2000 + n}"\n    name: U{n}\n    package: Basic\n'
                       f'    devices: ["1030"]{password}\n')
    tenant = "tenant: Test Tenant\nplatform_version: \"6.0\"\npackages:\n  Basic: 1000\n"
    write_tree({"Main/u.yaml": "users:\n" + "".join(entries)}, tenant=tenant)
    env = {f"RECONCILER_PW_U{n}": f"pass-{n:04d}-word" for n in range(700) if n % 3}
    assert run("apply", "--auto-approve", env=env).exit_code == 0
    with sqlite3.connect(tmp_path / ".reconciler" / "tenant.db") as connection:
        stored = dict(connection.execute("SELECT extension, password_hash FROM users"))
    for n in range(700):
        if n % 3:
            assert password_matches(f"pass-{n:04d}-word", stored[str(2000 + n)]), n
        else:
            assert stored[str(2000 + n)] is None
