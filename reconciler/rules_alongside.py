"""The cross-object rules, checked in a forked child while the parent reads the tenant
and plans.

A plan of a large tenant spends a fifth of its time on the rules that need the
whole config (numbers, members, seats), and as long again reading the tenant, all
of it Python under one interpreter lock. The rules are pure functions of the
loaded config, so a child made with fork() checks them on its copy while the
parent goes on; the parent then waits for the child's answer before it shows or
keeps anything. What users see does not change:

- Problems come first, as when the rules ran before the tenant was read: a rule
  problem is reported instead of anything the tenant phase raised.
- A child that fails, is killed or answers nonsense is not trusted: the parent
  checks the rules itself. No plan is ever made without them.
- Small configs (fork costs more than their rules), platforms without fork, and
  processes running threads (fork copies one thread only) check inline, before
  the tenant is read, as always.

`RECONCILER_PARALLEL_RULES=off` always checks inline; `on` forks at any size (for
tests and measurements). The child writes nothing anywhere but its pipe, and ends
with os._exit: no buffers of the parent are flushed twice, no exit handler runs.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from reconciler import failpoints
from schema import rules
from schema.declarations import TenantConfig
from schema.problems import Problem

#: Below this many resources, the rules take less time than a fork of a process
#: holding them (BENCHMARKS.md).
MIN_RESOURCES = 5_000
_SWITCH = "RECONCILER_PARALLEL_RULES"


@contextmanager
def rules_alongside(config: TenantConfig) -> Iterator[Callable[[], list[Problem]]]:
    """Yields a function giving the rules' problems (waiting for the child if there is
    one). Leaving the block early stops a child still checking."""
    child = _start_child(config) if _worth_forking(config) else None
    if child is None:
        problems = rules.check(config)
        yield lambda: problems
        return
    try:
        yield child.problems
    finally:
        child.stop()


def _worth_forking(config: TenantConfig) -> bool:
    switch = os.environ.get(_SWITCH, "").strip().lower()
    if switch == "off" or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    return switch == "on" or len(config.declared) >= MIN_RESOURCES


class _Child:
    def __init__(self, pid: int, answer: int, config: TenantConfig) -> None:
        self._pid: int | None = pid
        self._answer: int | None = answer
        self._config = config
        self._problems: list[Problem] | None = None

    def problems(self) -> list[Problem]:
        if self._problems is None:
            answered = self._receive()
            # Not answered: the rules are checked here, never skipped.
            self._problems = rules.check(self._config) if answered is None else answered
        return self._problems

    def _receive(self) -> list[Problem] | None:
        assert self._answer is not None and self._pid is not None
        with os.fdopen(self._answer, "rb") as pipe:
            self._answer = None
            data = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        try:
            answered = pickle.loads(data)  # from our own fork, through our own pipe
        except Exception:  # a garbled answer is no answer
            return None
        if not isinstance(answered, list) or not all(isinstance(p, Problem) for p in answered):
            return None
        return answered

    def stop(self) -> None:
        if self._pid is not None:
            with suppress(ProcessLookupError):  # it had just ended
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None
        if self._answer is not None:
            os.close(self._answer)
            self._answer = None


def _start_child(config: TenantConfig) -> _Child | None:
    answer, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or processes to spare: check inline
        os.close(answer)
        os.close(write_end)
        return None
    if pid == 0:  # the child: check, answer, and end without running anything else
        code = 1
        try:
            os.close(answer)
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)  # the parent's handlers report runs
            gc.disable()  # nothing here forms cycles, and the process is short-lived
            failpoints.reach("rules-child")
            data = pickle.dumps(rules.check(config), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return _Child(pid, answer, config)
