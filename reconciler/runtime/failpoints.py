"""Fault injection at named points, for the crash tests (tests/test_crash_matrix.py).

`RECONCILER_FAILPOINT=POINT:ACTION[,POINT:ACTION...]` makes the process fail at
that point, for real:

    points   setup            inside the transaction that creates a new tenant
             purchase-done    after the seats and licences bought were recorded, before
                              step 1
             step-N-write     inside step N's transaction, before it commits
             step-N-done      after step N has committed
    actions  kill             SIGKILL this process (nothing runs after it)
             term             SIGTERM this process (a CI job cancelled)
             interrupt        SIGINT this process (Ctrl-C)
             pause            SIGSTOP this process, until the test sends SIGCONT
             error            a disk I/O error from the tenant's storage

This is how SQLite, etcd and FoundationDB test crash safety: the failure is
real, only its moment is chosen. Without the variable, `reach` is one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import sqlite3

_ENVIRONMENT_VARIABLE = "RECONCILER_FAILPOINT"


def _armed() -> dict[str, str]:
    spec = os.environ.get(_ENVIRONMENT_VARIABLE, "")
    pairs = (item.rsplit(":", 1) for item in spec.split(",") if ":" in item)
    return {point.strip(): action.strip() for point, action in pairs}


_ARMED = _armed()


def reach(point: str) -> None:
    action = _ARMED.get(point)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif action == "interrupt":
        os.kill(os.getpid(), signal.SIGINT)
    elif action == "pause":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action == "error":
        raise sqlite3.OperationalError(f"disk I/O error (injected at {point})")
