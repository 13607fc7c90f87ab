"""Work done in a forked child while the parent goes on: the child answers through a
pipe and ends with os._exit.

A plan's work is Python under one interpreter lock; a second core helps only
through a second process. fork() gives the child the parent's loaded data for free
(copy-on-write), so only the answer has to travel. What is safe to run here is
the caller's business: pure work on data already loaded, or work whose result is
checked before it is used (`rules_alongside`, `cache_warming`).

The child:
- resets SIGINT, SIGTERM and SIGHUP to their defaults: the parent's handlers report
  a run, which is the parent's to do; a cancelled job's signal ends the child too;
- on Linux, dies with the parent (PR_SET_PDEATHSIG): a parent killed with SIGKILL,
  which can run nothing, leaves no child behind;
- never flushes the parent's buffered output, runs no exit handler and closes
  nothing of the parent's (os._exit);
- reports failure only by its exit status or a missing answer: a caller must treat
  `None` as "not done" and do the work itself.

Forking is not attempted without os.fork, or while the process runs other threads
(fork copies only the calling one, and a lock another thread holds would stay
held in the child forever). `RECONCILER_PARALLEL=off` never forks; `on` forks
whatever the size of the work (for tests and measurements); unset, each user
decides by the size of its work (`worth_forking`).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import suppress

from reconciler import failpoints

SWITCH_VARIABLE = "RECONCILER_PARALLEL"


def may_fork() -> bool:
    """Whether forking is allowed at all here (cheap: ask before preparing any work)."""
    switch = os.environ.get(SWITCH_VARIABLE, "").strip().lower()
    if switch == "off" or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    # Unasked, only on Linux: macOS's own libraries are not all safe to use after fork.
    return switch == "on" or sys.platform == "linux"


def worth_forking(large_enough: bool) -> bool:
    """Whether to fork for work that is `large_enough` to pay for a fork by itself."""
    forced = os.environ.get(SWITCH_VARIABLE, "").strip().lower() == "on"
    return may_fork() and (forced or large_enough)


class ForkedChild:
    """A running child; `answer()` waits for it, `stop()` ends it if still running."""

    def __init__(self, pid: int, answer: int) -> None:
        self._pid: int | None = pid
        self._answer: int | None = answer

    def answer(self) -> bytes | None:
        """What the child wrote, once it ended well; None if it failed or was killed."""
        if self._answer is None or self._pid is None:
            return None
        with os.fdopen(self._answer, "rb") as pipe:
            self._answer = None
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return data if os.waitstatus_to_exitcode(status) == 0 else None

    def stop(self) -> None:
        if self._pid is not None:
            with suppress(ProcessLookupError):  # it had just ended
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None
        if self._answer is not None:
            os.close(self._answer)
            self._answer = None


def fork_child(work: Callable[[], bytes], failpoint: str) -> ForkedChild | None:
    """Run `work` in a child; None if no child could be made (do the work here).
    `failpoint` names the point the crash tests reach inside the child."""
    try:
        answer, write_end = os.pipe()
    except OSError:  # no file descriptors to spare
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no memory or processes to spare
        os.close(answer)
        os.close(write_end)
        return None
    if pid == 0:
        code = 1
        try:
            os.close(answer)
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)
            _die_with(parent)
            gc.disable()  # short-lived, and what it builds forms no cycles
            failpoints.reach(failpoint)
            data = work()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return ForkedChild(pid, answer)


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Linux: SIGKILL this child when its parent dies. Elsewhere, a child outliving a
    killed parent finishes its work (cache entries, written atomically) and ends on
    its closed pipe."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took hold
        os._exit(1)
