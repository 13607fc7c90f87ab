"""A real PostgreSQL server for the tests: a throwaway cluster, started and stopped here.

No mock: initdb and pg_ctl make a cluster in a temporary folder, listening on a
free port on 127.0.0.1 only, stopped and removed when the test session ends. As
root (initdb refuses root) the cluster runs as the `postgres` user, or `nobody`.
Durability is switched off (fsync, synchronous commit): the data is thrown away.

RECONCILER_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB runs the tests against an
existing server instead (each test uses tenants of its own there). Where the server
binaries are is found from RECONCILER_POSTGRES_BIN, `pg_config --bindir`, or
Debian's /usr/lib/postgresql/N/bin; `.ci/run` makes sure there are some.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

URL_VARIABLE = "RECONCILER_TEST_POSTGRES_URL"


def server_binaries() -> Path | None:
    given = os.environ.get("RECONCILER_POSTGRES_BIN")
    candidates = [given] if given else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    return next((Path(c) for c in candidates if c and (Path(c) / "initdb").exists()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_user() -> tuple[list[str], int | None]:
    """The command prefix and uid to run the server as: root may not run it."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            return ["runuser", "-u", name, "--"], pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a postgres nor a nobody user")


@contextmanager
def running_server() -> Iterator[str]:
    """A server URL, for as long as the block runs."""
    existing = os.environ.get(URL_VARIABLE)
    if existing:
        yield existing
        return
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found; install "
                           "Debian's postgresql package, set RECONCILER_POSTGRES_BIN, or set "
                           f"{URL_VARIABLE} to an existing server")
    prefix, uid = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="reconciler-pg-"))
    if uid is not None:
        os.chown(folder, uid, -1)
    data, port = folder / "data", _free_port()
    run = [*prefix]

    def call(*command: str) -> None:
        subprocess.run([*run, *command], check=True, capture_output=True, timeout=120)

    call(str(binaries / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres",
         "--no-sync", "-E", "UTF8", "--locale=C")
    options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
    call(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
         str(folder / "server.log"), "-w", "start")
    # A cancelled CI job sends SIGTERM: turned into SystemExit, it still runs the
    # `finally` below, so the server does not outlive the tests.
    on_term = signal.getsignal(signal.SIGTERM)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, on_term)
        subprocess.run([*run, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


_DATABASES: set[tuple[str, str]] = set()


def tenant_url(server: str, name: str) -> str:
    """A URL for a tenant of its own on the test server, in a database of its own: one
    database holds one tenant per customer (a second tenant for the same owner is
    refused), and the tests' tenants share a few owner names. Where the server lets
    nobody create databases (RECONCILER_TEST_POSTGRES_URL), the given one is used."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    database = "db_" + "".join(c if c.isalnum() else "_" for c in name.lower())[:50]
    parts = urlsplit(server)
    base = urlunsplit(parts._replace(query=""))
    if (base, database) not in _DATABASES:
        try:
            with psycopg.connect(base, autocommit=True) as connection:
                exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                            (database,)).fetchone()
                if exists is None:
                    connection.execute(f'CREATE DATABASE "{database}"')
        except psycopg.Error:
            database = parts.path.lstrip("/")
        _DATABASES.add((base, database))
    url = urlunsplit(parts._replace(path=f"/{database}"))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}tenant={name}"
