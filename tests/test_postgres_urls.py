"""The documented URL forms of a PostgreSQL tenant connect, on a real server: a Unix
socket (`postgresql:///DB?host=/socket`) and a pg_service.conf service
(`postgresql://?service=NAME`), each with `?tenant=` (docs/providers.md)."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from reconciler.providers.pg_urls import parse
from tests.conftest import Run
from tests.postgres_server import tenant_url


@pytest.fixture
def server(postgres_server: str) -> dict[str, str]:
    """Where a fresh tenant's database is: host, port, user, database, tenant key and
    the server's socket folder."""
    url = tenant_url(postgres_server, f"u{uuid.uuid4().hex[:10]}")
    parts = urlsplit(url)
    with psycopg.connect(parse(url).conninfo) as connection:
        row = connection.execute("SHOW unix_socket_directories").fetchone()
    assert row is not None
    return {"host": parts.hostname or "", "port": str(parts.port), "user": parts.username or "",
            "database": parts.path.lstrip("/"), "tenant": parse_qs(parts.query)["tenant"][0],
            "socket": row[0].split(",")[0].strip()}


def _plans_apply_and_plans_empty(run: Run, tenant: str, env: dict[str, str] | None = None
                                 ) -> None:
    applied = run("apply", "--auto-approve", "--tenant", tenant, env=env)
    assert applied.exit_code == 0, applied.stderr
    again = run("plan", "--detailed-exitcode", "--tenant", tenant, env=env)
    assert again.exit_code == 0, again.stderr


def test_a_unix_socket_url_connects(run: Run, example_sites: Path,
                                    server: dict[str, str]) -> None:
    if not Path(server["socket"]).is_dir():
        pytest.skip("the test server's socket folder is not on this machine")
    url = (f"postgresql:///{server['database']}?host={server['socket']}&port={server['port']}"
           f"&user={server['user']}&tenant={server['tenant']}")
    _plans_apply_and_plans_empty(run, url)


def test_a_service_url_connects(run: Run, example_sites: Path, server: dict[str, str],
                                tmp_path: Path) -> None:
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[phones-ci]\nhost={server['host']}\nport={server['port']}\n"
                        f"user={server['user']}\ndbname={server['database']}\n")
    url = f"postgresql://?service=phones-ci&tenant={server['tenant']}"
    _plans_apply_and_plans_empty(run, url, env={"PGSERVICEFILE": str(services)})


def test_our_parameter_comes_out_and_every_other_byte_stays() -> None:
    assert parse("postgresql:///phones?host=/run/postgresql&tenant=acme").conninfo == \
        "postgresql:///phones?host=/run/postgresql"
    assert parse("postgresql://?service=ci&tenant=acme").conninfo == "postgresql://?service=ci"
    found = parse("postgres://ci@db:5433/phones?sslmode=require&tenant=a%20b&connect_timeout=5")
    assert (found.conninfo, found.tenant) == (
        "postgres://ci@db:5433/phones?sslmode=require&connect_timeout=5", "a b")
