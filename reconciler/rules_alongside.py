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

`RECONCILER_PARALLEL=off` always checks inline; `on` forks at any size (for tests
and measurements). How the child is run: `forked`.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from reconciler.forked import ForkedChild, fork_child, worth_forking
from schema import rules
from schema.declarations import TenantConfig
from schema.problems import Problem

#: Measured (BENCHMARKS.md): a warm plan of 2,000 resources took as long with a
#: child as without (0.58 s), of 5,000 13% less (0.68 s against 0.78 s).
MIN_RESOURCES = 5_000


@contextmanager
def rules_alongside(config: TenantConfig) -> Iterator[Callable[[], list[Problem]]]:
    """Yields a function giving the rules' problems (waiting for the child if there is
    one). Leaving the block early stops a child still checking."""
    child = None
    if worth_forking(len(config.declared) >= MIN_RESOURCES):
        child = fork_child(lambda: pickle.dumps(rules.check(config)), "rules-child")
    if child is None:
        checked = rules.check(config)
        yield lambda: checked
        return
    answered: list[list[Problem]] = []

    def problems() -> list[Problem]:
        if not answered:
            # Not answered, or not sensibly: the rules are checked here, never skipped.
            found = _problems_in(child)
            answered.append(rules.check(config) if found is None else found)
        return answered[0]

    try:
        yield problems
    finally:
        child.stop()


def _problems_in(child: ForkedChild) -> list[Problem] | None:
    data = child.answer()
    if data is None:
        return None
    try:
        answered = pickle.loads(data)  # from our own fork, through our own pipe
    except Exception:  # a garbled answer is no answer
        return None
    if not isinstance(answered, list) or not all(isinstance(p, Problem) for p in answered):
        return None
    return answered
