"""An older tenant after an upgrade (issue 20, point 3), on real tenant files written by
earlier versions (tests/fixtures/tenants/): one that never recorded its owner is not
taken by whichever config comes first; plan and apply refuse, naming what it holds,
until `reconcile tenant claim` states its owner once."""

from __future__ import annotations

import shutil
from pathlib import Path

from reconciler.providers import SqliteTenant
from reconciler.providers.sqlite_storage import SCHEMA_VERSION
from tests.conftest import Run

FIXTURES = Path(__file__).parent / "fixtures" / "tenants"
HOLDS = "holds 1 hot desk user, 3 shared lines and 4 users in site Main"


def _copy(name: str, tmp_path: Path) -> str:
    target = tmp_path / name
    shutil.copyfile(FIXTURES / name, target)
    return f"sqlite:///{target}"


def test_an_unclaimed_tenant_is_refused_by_plan_and_apply_and_left_untouched(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    url = _copy("schema3.db", tmp_path)
    before = (tmp_path / "schema3.db").read_bytes()
    for command in (("plan",), ("apply", "--auto-approve")):
        result = run(*command, "--tenant", url)
        assert result.exit_code == 1
        assert (f"was made before tenants recorded whose they are, and {HOLDS}; nothing was "
                "planned") in result.stderr
        assert 'reconcile tenant claim "Example Tenant" (with the same --tenant)' in \
            result.stderr
    assert (tmp_path / "schema3.db").read_bytes() == before  # not even migrated


def test_another_customers_config_cannot_take_it_after_an_upgrade(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    url = _copy("schema3.db", tmp_path)
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text().replace("Example Tenant", "Other Customer"))
    refused = run("apply", "--auto-approve", "--tenant", url)
    assert refused.exit_code == 1 and HOLDS in refused.stderr
    assert SqliteTenant(tmp_path / "schema3.db").read_state().identity is None


def test_claim_states_the_owner_once_migrates_and_then_plans_are_empty(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    url = _copy("schema3.db", tmp_path)
    claimed = run("tenant", "claim", "Example Tenant", "--tenant", url)
    assert claimed.exit_code == 0, claimed.output
    assert claimed.stdout == (f"{url}: recorded as \"Example Tenant\"'s tenant; migrated tenant "
                              f"schema 3 -> {SCHEMA_VERSION}; it {HOLDS}.\n")
    assert run("plan", "--tenant", url, "--detailed-exitcode").exit_code == 0
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    again = run("tenant", "claim", "Someone Else", "--tenant", url)
    assert again.exit_code == 1
    assert 'already records that it is "Example Tenant"\'s; nothing was changed' in again.stderr
    tenant_yaml = example_sites / "tenant.yaml"
    tenant_yaml.write_text(tenant_yaml.read_text().replace("Example Tenant", "Other Customer"))
    other = run("plan", "--tenant", url)
    assert other.exit_code == 1 and 'tenant file holds "Example Tenant"' in other.stderr


def test_migrating_does_not_decide_the_owner(run: Run, example_sites: Path,
                                             tmp_path: Path) -> None:
    url = _copy("schema3.db", tmp_path)
    dry = run("tenant", "migrate", "--tenant", url, "--dry-run")
    assert f"schema 3 -> {SCHEMA_VERSION}" in dry.stdout
    assert "ALTER TABLE users ADD COLUMN uid" in dry.stdout
    assert run("tenant", "migrate", "--tenant", url).exit_code == 0
    state = SqliteTenant(tmp_path / "schema3.db").read_state()
    assert state.identity is None and all(state.uids.values())
    assert HOLDS in run("plan", "--tenant", url).stderr  # still refused: nobody said whose


def test_tenant_check_on_an_older_schema_says_to_migrate(run: Run, tmp_path: Path) -> None:
    url = _copy("schema3.db", tmp_path)
    result = run("tenant", "check", "--tenant", url)
    assert result.exit_code == 1 and "internal error" not in result.output
    assert "has schema 3 as an older version of this tool wrote it" in result.stderr
    assert "Run: reconcile tenant migrate" in result.stderr


def test_the_first_schema_4_release_is_read_planned_and_brought_up_to_date(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    """Its tenants recorded their owner, but lack a column schema 4 gained later without
    a new number (users.password_from): today's tool could not read them at all
    ('no such column'). Plans read it without writing; migrate brings it up to date."""
    url = _copy("schema4.db", tmp_path)
    before = (tmp_path / "schema4.db").read_bytes()
    plan = run("plan", "--tenant", url, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert (tmp_path / "schema4.db").read_bytes() == before
    checked = run("tenant", "check", "--tenant", url)
    assert checked.exit_code == 1 and "Run: reconcile tenant migrate" in checked.stderr
    dry = run("tenant", "migrate", "--tenant", url, "--dry-run")
    assert "ALTER TABLE users ADD COLUMN password_from TEXT" in dry.stdout
    assert "ADD COLUMN uid" not in dry.stdout
    migrated = run("tenant", "migrate", "--tenant", url)
    assert f"migrated tenant schema 4 -> {SCHEMA_VERSION}" in migrated.stdout, migrated.output
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    assert run("plan", "--tenant", url, "--detailed-exitcode").exit_code == 0
    claim = run("tenant", "claim", "Example Tenant", "--tenant", url)
    assert claim.exit_code == 1 and "already records" in claim.stderr
    other = example_sites / "tenant.yaml"
    other.write_text(other.read_text().replace("Example Tenant", "Other Customer"))
    assert 'tenant file holds "Example Tenant"' in run("plan", "--tenant", url).stderr


def test_an_apply_with_nothing_to_do_still_brings_the_tenant_up_to_date(
        run: Run, example_sites: Path, tmp_path: Path) -> None:
    url = _copy("schema4.db", tmp_path)
    applied = run("apply", "--auto-approve", "--tenant", url)
    assert applied.exit_code == 0, applied.output
    assert (f"Apply complete: no change to apply; migrated tenant schema 4 -> "
            f"{SCHEMA_VERSION}.") in applied.stdout
    assert run("tenant", "check", "--tenant", url).exit_code == 0
    again = run("apply", "--auto-approve", "--tenant", url)
    assert "Apply complete" not in again.stdout  # nothing left to migrate either
