"""The embedded tenant's lock: an flock on a file beside it, held for a whole apply.

The operating system releases an flock when its holder's process ends, however
it ends (kill -9 included), so a dead holder never blocks and nobody ever needs
to delete the file. The file records who holds it, for the message a second
apply prints. It is opened without following symlinks and must be a regular
file: a lock path planted as a symlink or a FIFO can neither redirect our write
onto another file nor hang us.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.providers.lock_holders import LockHolder
from reconciler.runtime.errors import TenantLocked, TenantUnreachable

_POLL_SECONDS = 0.2


@contextmanager
def held(path: Path, tenant: str, timeout: float) -> Iterator[None]:
    """Hold the lock at `path` for the `with` block; wait up to `timeout` seconds
    for another holder to finish, then fail naming it."""
    descriptor = _open(path)
    try:
        _acquire(descriptor, tenant, timeout)
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (LockHolder.current().to_json() + "\n").encode(), 0)
        yield
    finally:
        os.close(descriptor)  # releases the flock


def holder_of(path: Path) -> LockHolder | None:
    """Who holds the lock at `path` now, or None if nobody does."""
    try:
        descriptor = _open(path, create=False)
    except (FileNotFoundError, TenantUnreachable):
        return None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return LockHolder.from_json(_read(descriptor))
        return None
    finally:
        os.close(descriptor)


def _open(path: Path, create: bool = True) -> int:
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags |= os.O_CREAT
        descriptor = os.open(path, flags, 0o600)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise TenantUnreachable(
                f"lock file {path} is a symbolic link; a lock must be a plain file beside the "
                "tenant, so refusing to use it (someone may be trying to redirect it)"
            ) from error
        raise TenantUnreachable(f"cannot open lock file {path}: {error.strerror}") from error
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise TenantUnreachable(f"lock file {path} is not a regular file; refusing to use it")
    return descriptor


def _acquire(descriptor: int, tenant: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                break
            time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    holder = LockHolder.from_json(_read(descriptor))
    who = holder.describe() if holder else "another apply (it has not said who yet)"
    waited = f" after waiting {timeout:g} s" if timeout else ""
    raise TenantLocked(
        f"tenant {tenant} is locked by {who}{waited}. The lock is released the moment "
        "that process ends, however it ends; wait for it, or pass --lock-timeout to wait "
        "here (e.g. --lock-timeout 10m)"
    )


def _read(descriptor: int) -> str:
    return os.pread(descriptor, 4096, 0).decode("utf-8", "replace")
