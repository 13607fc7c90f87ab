"""Running `reconcile` as a separate process, as CI does: for signals, kills and races."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

RECONCILE = str(Path(sys.executable).parent / "reconcile")


def environment(tenant: Path | None = None, failpoint: str | None = None,
                **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("RECONCILER_")}
    env["NO_COLOR"] = "1"
    if tenant is not None:
        env["RECONCILER_TENANT"] = f"sqlite:///{tenant}"
    if failpoint is not None:
        env["RECONCILER_FAILPOINT"] = failpoint
    env.update(extra)
    return env


def reconcile(*args: str, cwd: Path, tenant: Path | None = None, failpoint: str | None = None,
              timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RECONCILE, *args], cwd=cwd, capture_output=True, text=True,
                          env=environment(tenant, failpoint, **extra), timeout=timeout,
                          stdin=subprocess.DEVNULL)


def start(*args: str, cwd: Path, tenant: Path | None = None, failpoint: str | None = None,
          **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([RECONCILE, *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=environment(tenant, failpoint, **extra))


def stopped_child(pid: int, timeout: float = 30) -> int | None:
    """A child of `pid` stopped by SIGSTOP (a `pause` failpoint), once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            try:
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue  # it ended meanwhile
            if state == "T":
                return int(child)
        time.sleep(0.05)
    return None
