"""`reconcile local-tenant fixture`: a stand-in tenant for plans that may not reach the
real one (forked pull requests get no secrets)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Run


def _with_a_password(sites: Path) -> None:
    users = sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace(
        '    mac: "020000000997"\n', '    mac: "020000000997"\n'
        '    password: {env: RECONCILER_PW_0997}\n'))


def test_a_fixture_holds_the_tree_without_any_secret(run: Run, example_sites: Path,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_PW_0997", raising=False)
    _with_a_password(example_sites)
    # apply itself needs the variable: the fixture is the way without it
    assert "RECONCILER_PW_0997 is not set" in run(
        "apply", "--auto-approve", str(example_sites), "--tenant",
        f"sqlite:///{tmp_path / 'real.db'}").output
    fixture = f"sqlite:///{tmp_path / 'fixture.db'}"
    built = run("local-tenant", "fixture", str(example_sites), "--tenant", fixture)
    assert built.exit_code == 0, built.output
    assert "a fixture tenant holding 8 resource(s)" in built.stdout
    assert "not the real tenant" in built.stdout
    assert run("plan", str(example_sites), "--tenant", fixture,
               "--detailed-exitcode").exit_code == 0
    with sqlite3.connect(tmp_path / "fixture.db") as connection:
        (stored,) = connection.execute(
            "SELECT password_hash FROM users WHERE extension = '0997'").fetchone()
    assert stored  # a placeholder was set, so a plan has no password to set either
    # A change on top of the fixture plans as the change alone.
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace('name: test vqm', 'name: "test vqm 2"'))
    changed = run("plan", str(example_sites), "--tenant", fixture, "--format", "json")
    assert '"update": 1' in changed.stdout and '"create": 0' in changed.stdout


def test_a_fixture_is_built_from_nothing_and_only_locally(run: Run, example_sites: Path,
                                                          tmp_path: Path) -> None:
    fixture = f"sqlite:///{tmp_path / 'fixture.db'}"
    assert run("local-tenant", "fixture", str(example_sites), "--tenant", fixture
               ).exit_code == 0
    again = run("local-tenant", "fixture", str(example_sites), "--tenant", fixture)
    assert again.exit_code == 1 and "already holds a tenant" in again.stderr
    shared = run("local-tenant", "fixture", str(example_sites), "--tenant",
                 "postgresql://reconciler@db.example.com/phones?tenant=acme")
    assert shared.exit_code == 1 and "never in a shared tenant" in shared.stderr
    broken = example_sites / "Main" / "users.yaml"
    broken.write_text(broken.read_text().replace('extension: "0997"', 'extension: "0x97"'))
    invalid = run("local-tenant", "fixture", str(example_sites), "--tenant",
                  f"sqlite:///{tmp_path / 'other.db'}")
    assert invalid.exit_code == 1 and "users.yaml:" in invalid.stderr
    assert not (tmp_path / "other.db").exists()
