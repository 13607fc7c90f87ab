"""Hashing an apply's passwords on every core, ahead of the steps that store them.

A memory-hard hash costs about a millisecond a password; done inside each step it
would slow a large first apply by half again. hashlib releases the interpreter
lock while it hashes, so worker threads hash the passwords of the next steps while
the main thread writes, and a step only waits if its hash is not ready yet. Only a
window of steps is hashed ahead (a future per password of a 100,000-user apply
cost 200 MB); a stopped apply cancels what is left. The values never leave this
process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from reconciler.plans import Change
from reconciler.providers.password_hashing import hash_password
from schema.fields import SecretRef
from schema.state import NewPassword

#: How many steps' passwords are hashed ahead of the step being written.
WINDOW = 256


class Prehashed:
    def __init__(self, changes: tuple[Change, ...], values: Mapping[SecretRef, str],
                 pool: ThreadPoolExecutor) -> None:
        self._values, self._pool = values, pool
        self._waiting = iter([(index, change.password) for index, change
                              in enumerate(changes, start=1) if change.password is not None])
        self._hashes: dict[int, Future[str]] = {}
        self._submitted_to = 0
        self._top_up(WINDOW)

    def _top_up(self, up_to: int) -> None:
        while self._submitted_to < up_to:
            following = next(self._waiting, None)
            if following is None:
                self._submitted_to = up_to
                return
            index, ref = following
            self._hashes[index] = self._pool.submit(hash_password, self._values[ref])
            self._submitted_to = index

    def for_step(self, index: int, change: Change) -> NewPassword | None:
        self._top_up(index + WINDOW)
        if change.password is None:
            return None
        return NewPassword(change.password.describe(), self._values[change.password],
                           hashed=self._hashes.pop(index).result())


@contextmanager
def prehashing(changes: tuple[Change, ...], values: Mapping[SecretRef, str]
               ) -> Iterator[Prehashed]:
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                              thread_name_prefix="password-hash")
    try:
        yield Prehashed(changes, values, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
