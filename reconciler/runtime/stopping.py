"""Stopping honestly: signals and a closed stdout end a run with the truth about it.

Outside an apply's writes, Ctrl-C (SIGINT), a CI cancel (SIGTERM) and a hang-up
(SIGHUP) stop at once: nothing has been written. While an apply writes, they
are *deferred*: the step in progress finishes (it is one transaction, so it
either happens or not), and the apply stops before the next one, knowing
exactly how many steps stand. SIGKILL cannot be caught; the tenant's journal
covers it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_NAMES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)",
          signal.SIGHUP: "hung up (SIGHUP)"}


class _Written:
    """What this process has written to a tenant so far, for a stop reported outside
    an apply's own handling (a signal in the instant after its last step)."""

    steps = 0
    setup: str | None = None


def record_written(steps: int, setup: str | None) -> None:
    _Written.steps, _Written.setup = steps, setup


def what_stands() -> str:
    if _Written.steps:
        return f"{_Written.steps} step(s) were applied and stand"
    if _Written.setup:
        return f"no step was applied ({_Written.setup})"
    return "nothing was changed"


class Terminated(BaseException):
    """SIGTERM or SIGHUP outside an apply's writes (SIGINT raises KeyboardInterrupt)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def install() -> None:
    """Make SIGTERM and SIGHUP raise, like Ctrl-C does, so every stop is reported."""
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _raise_terminated)


def _raise_terminated(number: int, frame: FrameType | None) -> None:
    raise Terminated(_NAMES[signal.Signals(number)])


class StopRequest:
    """Why the run was asked to stop while its writes were deferred, if it was."""

    def __init__(self) -> None:
        self.why: str | None = None

    def __call__(self, number: int, frame: FrameType | None) -> None:
        self.why = self.why or _NAMES[signal.Signals(number)]


@contextmanager
def deferred() -> Iterator[StopRequest]:
    """Within the block, stopping signals are noted instead of raised; the caller
    checks `request.why` between steps."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request  # only the main thread receives signals (a library caller's thread)
        return
    previous = {number: signal.signal(number, request) for number in _NAMES}
    try:
        yield request
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
