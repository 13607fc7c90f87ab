"""The tests' own PostgreSQL server never outlives them, even when CI cancels the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres_server import URL_VARIABLE, server_binaries

STARTS_AND_WAITS = """
import sys, time
from tests.postgres_server import running_server
with running_server() as url:
    print(url, flush=True)
    time.sleep(120)
"""


@pytest.mark.skipif(bool(os.environ.get(URL_VARIABLE)) or server_binaries() is None,
                    reason="the tests use a server they did not start")
def test_a_cancelled_run_stops_its_server() -> None:
    runner = subprocess.Popen([sys.executable, "-c", STARTS_AND_WAITS], text=True,
                              stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent)
    try:
        assert runner.stdout is not None
        port = runner.stdout.readline().rsplit(":", 1)[1].split("/")[0]
        running = _servers_on(port)
        assert running, "the server never started"
        folder = Path(running[0][running[0].index("-k") + 1])
        runner.send_signal(signal.SIGTERM)  # what a cancelled CI job sends
        assert runner.wait(timeout=60) == 128 + signal.SIGTERM
        assert not folder.exists()
        assert _servers_on(port) == []
    finally:
        if runner.poll() is None:
            runner.terminate()
            runner.wait(timeout=60)


def _servers_on(port: str) -> list[list[str]]:
    """The command lines of the postgres processes started with `-p port`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            arguments = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "-p" in arguments and arguments[arguments.index("-p") + 1] == port \
                and "-D" in arguments:
            found.append(arguments)
    return found
