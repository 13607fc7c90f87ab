"""Hashing an apply's passwords on every core, ahead of the steps that store them.

A memory-hard hash costs a millisecond or two a password; done inside each step
it would double a large first apply. hashlib releases the interpreter lock while
it hashes, so worker threads hash the passwords in step order while the main
thread writes, and each step only waits if its hash is not ready yet. The values
never leave this process; a stopped apply cancels what is left.
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


class Prehashed:
    def __init__(self, changes: tuple[Change, ...], values: Mapping[SecretRef, str],
                 pool: ThreadPoolExecutor) -> None:
        self._values = values
        self._hashes: dict[int, Future[str]] = {
            index: pool.submit(hash_password, values[change.password])
            for index, change in enumerate(changes, start=1) if change.password is not None}

    def for_step(self, index: int, change: Change) -> NewPassword | None:
        if change.password is None:
            return None
        return NewPassword(change.password.describe(), self._values[change.password],
                           hashed=self._hashes[index].result())


@contextmanager
def prehashing(changes: tuple[Change, ...], values: Mapping[SecretRef, str]
               ) -> Iterator[Prehashed]:
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                              thread_name_prefix="password-hash")
    try:
        yield Prehashed(changes, values, pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
