"""Files the tool writes for people and jobs (plan files, upload files): whole or not at
all, and never in place of something that is not a file.

A regular file (or nothing yet) is written beside its path and renamed over it, so a
reader never sees half of it and a failed write (a full disk, a file-size limit, a
signal) leaves no temporary. A path that leads to a device or a FIFO (/dev/stdout, a
pipe) is written through: renaming over it would put our file where the device was
(as root, /dev/full itself). A link to a regular file replaces the file it leads to,
keeping the link. Every failure is a ReconcilerError naming the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from reconciler.runtime.errors import ReconcilerError

Writer = Callable[[BinaryIO], None]


def write_output(path: Path, write: Writer, what: str, private: bool = False,
                 durable: bool = False) -> None:
    """Write `path` with `write(handle)`; `what` names it in messages ("plan file");
    `private`: readable by the owner only from the moment it exists (else 0644);
    `durable`: on disk (fsync) before it is renamed in."""
    try:
        kind = stat.S_IFMT(os.stat(path).st_mode)  # what the path leads to, links followed
    except OSError:
        kind = stat.S_IFREG  # nothing there yet (or unreadable: the write will say)
    if kind == stat.S_IFDIR:
        raise ReconcilerError(f"cannot write {what} {path}: it is a directory")
    if kind != stat.S_IFREG:
        _write_through(path, write, what)
        return
    target = Path(os.path.realpath(path))
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                                 dir=target.parent)
        os.fchmod(descriptor, 0o600 if private else 0o644)
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(error, OSError):
            raise ReconcilerError(f"cannot write {what} {path}: {error.strerror}") from error
        raise


def _write_through(path: Path, write: Writer, what: str) -> None:
    try:
        with open(path, "wb") as handle:
            write(handle)
    except OSError as error:
        raise ReconcilerError(f"cannot write {what} {path}: {error.strerror}; what was "
                              "written there is incomplete") from error
