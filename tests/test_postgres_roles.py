"""Least privilege in a shared PostgreSQL database (issue 20, point 5), on a real server:
`reconcile tenant grant` gives a reader role and a writer role one tenant each. The
reader (a pull request's plan job) plans its tenant and reads no password hash and no
other tenant; its apply is refused in words that say so; the writer applies its own
tenant only. The plan job of the GitHub template runs with the reader role."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.ci_runner import run_job
from tests.conftest import Run
from tests.fake_forges import FakeGitHub
from tests.postgres_server import tenant_url
from tests.tenant_helpers import as_role, name_tenant

TEMPLATES = Path(__file__).resolve().parent.parent / "examples" / "ci" / "github"


@pytest.fixture
def two_tenants(run: Run, example_sites: Path, postgres_server: str
                ) -> tuple[str, str, str, str]:
    """Tenants acme and globex in one database, made by the owner (postgres), a
    password set in acme; a reader and a writer role granted acme only."""
    suffix = uuid.uuid4().hex[:8]
    acme = tenant_url(postgres_server, f"acme{suffix}")
    globex = acme.rsplit("tenant=", 1)[0] + f"tenant=globex{suffix}"
    name_tenant(example_sites, "Globex")
    assert run("apply", "--auto-approve", "--tenant", globex).exit_code == 0
    name_tenant(example_sites, "Acme")
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace(
        'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_0997}', 1))
    applied = run("apply", "--auto-approve", "--tenant", acme,
                  env={"RECONCILER_PW_0997": "Secret-0997x"})
    assert applied.exit_code == 0, applied.output
    reader, writer = f"plan_{suffix}", f"apply_{suffix}"
    with psycopg.connect(acme.split("?")[0], autocommit=True) as admin:
        for role in (reader, writer):
            admin.execute(f'CREATE ROLE "{role}" LOGIN')
    granted = run("tenant", "grant", "--reader", reader, "--writer", writer, "--tenant", acme)
    assert granted.exit_code == 0, granted.output
    assert f"granted reading to {reader} and writing to {writer}" in granted.stdout
    return acme, globex, reader, writer


def test_the_reader_plans_its_tenant_and_nothing_more(run: Run, two_tenants: tuple[
        str, str, str, str]) -> None:
    acme, globex, reader, _ = two_tenants
    plan = run("plan", "--detailed-exitcode", "--tenant", as_role(acme, reader),
               env={"RECONCILER_PW_0997": "Secret-0997x"})
    assert plan.exit_code == 0, plan.output  # a plan needs nothing it was not granted
    other = run("plan", "--tenant", as_role(globex, reader))
    assert other.exit_code == 1 and "Traceback" not in other.output
    assert f"role {reader} may not read tenant 'globex" in other.stderr
    schema = psycopg.connect(acme.split("?")[0]).execute(
        "SELECT schema_name FROM reconciler.tenants WHERE key = %s",
        (acme.rsplit("tenant=", 1)[1],)).fetchone()
    assert schema is not None
    with psycopg.connect(as_role(acme, reader).split("?")[0]) as connection:
        names = connection.execute(f'SELECT name FROM "{schema[0]}".users').fetchall()
        assert ("0997",) in names
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(f'SELECT password_hash FROM "{schema[0]}".users')


def test_the_readers_apply_is_refused_in_words_that_say_so(
        run: Run, example_sites: Path, two_tenants: tuple[str, str, str, str]) -> None:
    acme, _, reader, _ = two_tenants
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", 'name: "Reception"', 1))
    refused = run("apply", "--auto-approve", "--tenant", as_role(acme, reader),
                  env={"RECONCILER_PW_0997": "Secret-0997x"})
    assert refused.exit_code == 1
    assert f"role {reader} may only read here: it cannot write tenant" in refused.stderr
    assert "needs CREATE" not in refused.stderr and "nothing was changed" in refused.stderr


def test_the_writer_applies_its_tenant_only(run: Run, example_sites: Path, two_tenants: tuple[
        str, str, str, str]) -> None:
    acme, globex, _, writer = two_tenants
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", 'name: "Reception"', 1))
    env = {"RECONCILER_PW_0997": "Secret-0997x"}
    applied = run("apply", "--auto-approve", "--tenant", as_role(acme, writer), env=env)
    assert applied.exit_code == 0, applied.output
    assert run("plan", "--detailed-exitcode", "--tenant", as_role(acme, writer),
               env=env).exit_code == 0
    name_tenant(example_sites, "Globex")
    other = run("apply", "--auto-approve", "--tenant", as_role(globex, writer), env=env)
    assert other.exit_code == 1 and f"role {writer} may not read tenant 'globex" in \
        other.stderr


def test_the_plan_job_runs_with_the_reader_role(
        example_sites: Path, tmp_path: Path, two_tenants: tuple[str, str, str, str]) -> None:
    """plan.yml's plan job, as GitHub runs it: the URL names no user, PGUSER is the
    job's read role."""
    from tests.test_ci_templates import _expressions, _job, _workspace

    acme, _, reader, _ = two_tenants
    pull = _workspace(tmp_path / "pull", example_sites)
    (pull / "event.json").write_text(json.dumps({"pull_request": {"number": 7}}))
    github = FakeGitHub()
    with github.serving() as api:
        expressions = {**_expressions(tmp_path / "unused.db"),
                       "vars.RECONCILER_TENANT": re.sub(r"//[^@/]*@", "//", acme, count=1),
                       "vars.PHONES_DB_READ_USER": reader}
        env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_API_URL": api,
               "GITHUB_REPOSITORY": "acme/phones", "GITHUB_EVENT_PATH": str(pull / "event.json"),
               "CI_SCRIPTS": str(TEMPLATES)}
        planned = run_job(_job(TEMPLATES / "plan.yml", "plan"), pull, expressions=expressions,
                          env=env)
    assert planned.code == 0, planned.output
    assert "1 to update" in github.comments[0]["body"]  # the pull request's rename


def test_grant_on_a_tenant_without_roles_says_so(run: Run, example_sites: Path) -> None:
    result = run("tenant", "grant", "--reader", "someone")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "roles are PostgreSQL's; this tenant has none to grant" in result.stderr
    neither = run("tenant", "grant")
    assert neither.exit_code == 1 and "name a --reader, a --writer, or both" in neither.stderr
