"""The folder holding one version's cache entries, touched only through file descriptors.

A cache folder may sit where someone else can plant files (a CI system whose cache
must live in the checkout, which a pull request writes). So nothing below the root
is ever followed: each folder is opened with O_NOFOLLOW relative to its parent's
descriptor, each entry relative to its folder's, and a link, a FIFO or a device
where an entry should be is an error, never read through. Reads are bounded, so an
entry planted as a huge file costs nothing. Pruning removes only regular files we
own whose names this tool gives and whose first bytes are an entry's, never a link
(unlink removes the link itself, not what it points to).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path

_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_ENTRY = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE_ENTRY = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
TEMPORARY_PREFIX = ".entry-"
_TEMPORARY_NAME = re.compile(r"\.entry-[A-Za-z0-9_]+")
#: A temporary older than this was left by a run that was killed: another run may be
#: writing the younger ones right now.
_ABANDONED_AFTER_SECONDS = 3600


class FolderRefused(OSError):
    """A folder of the cache that is a link or not a folder: the cache is not used."""


def open_folder(root: Path, parts: tuple[str, ...], create: bool = True) -> int:
    """A descriptor of root/parts[0]/parts[1]/..., made (mode 0700) where missing; the
    root itself and every part below it opened without following a link."""
    if create:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = _open_refusing_links(str(root), None, root)
    for part in parts:
        try:
            below = open_below(descriptor, part, root, create)
        finally:
            os.close(descriptor)
        descriptor = below
    return descriptor


def open_below(parent: int, name: str, root: Path, create: bool = True) -> int:
    """A descriptor of the folder `name` in the folder `parent` (below `root`, which
    messages name), made where missing, never through a link."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o700, dir_fd=parent)
    return _open_refusing_links(name, parent, root)


def _open_refusing_links(name: str, parent: int | None, root: Path) -> int:
    try:
        return os.open(name, _OPEN_FOLDER, dir_fd=parent)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise FolderRefused(error.errno, f"{root}: {name} is a link or not a folder; "
                                "only a plain folder is used (delete it to let the "
                                "cache make one)") from error
        raise


def read_entry(folder: int, name: str, limit: int) -> bytes:
    """The entry's bytes; OSError if it is missing (FileNotFoundError), a link, not a
    regular file, or over `limit` bytes."""
    descriptor = os.open(name, _OPEN_ENTRY, dir_fd=folder)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{name} is not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{name} is larger than an entry can be")
        chunks = []
        left = info.st_size + 1  # one more: a file that grew after fstat is refused too
        while left > 0:
            chunk = os.read(descriptor, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise OSError(errno.EFBIG, f"{name} grew while it was read")
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def write_entry(folder: int, name: str, data: bytes) -> None:
    """Write a temporary beside the entry, then rename it over: a reader sees the old
    entry or the new one, and a link in the way is replaced, never written through."""
    temporary = TEMPORARY_PREFIX + secrets.token_hex(8)
    descriptor = os.open(temporary, _CREATE_ENTRY, 0o600, dir_fd=folder)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        raise


def prune(folder: int, pattern: re.Pattern[str], keep: set[str], magic: bytes) -> None:
    """Remove entries not in `keep` and temporaries a killed run left: regular files of
    ours only, named as we name them, starting as our entries start."""
    for name in _names(folder, pattern, directories=False):
        if name not in keep and _written_by_us(folder, name, magic):
            _unlink(folder, name)
    now = time.time()
    for name in _names(folder, _TEMPORARY_NAME, directories=False):
        with contextlib.suppress(OSError):
            if now - os.stat(name, dir_fd=folder, follow_symlinks=False).st_mtime \
                    > _ABANDONED_AFTER_SECONDS:
                _unlink(folder, name)


def remove_other_versions(parent: int, version_pattern: re.Pattern[str], current: str,
                          entry_pattern: re.Pattern[str], magic: bytes) -> None:
    """Empty and remove every other version's folder; a folder still holding something
    not ours stays."""
    for name in _names(parent, version_pattern, directories=True):
        if name == current:
            continue
        try:
            other = os.open(name, _OPEN_FOLDER, dir_fd=parent)
        except OSError:
            continue
        try:
            prune(other, entry_pattern, set(), magic)
        finally:
            os.close(other)
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=parent)


def _names(folder: int, pattern: re.Pattern[str], directories: bool) -> list[str]:
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not pattern.fullmatch(entry.name) or entry.is_symlink():
                    continue
                if entry.is_dir(follow_symlinks=False) == directories and (
                        directories or entry.is_file(follow_symlinks=False)):
                    found.append(entry.name)
    except OSError:
        return []
    return found


def _written_by_us(folder: int, name: str, magic: bytes) -> bool:
    try:
        descriptor = os.open(name, _OPEN_ENTRY, dir_fd=folder)
    except OSError:
        return False
    try:
        info = os.fstat(descriptor)
        return (stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()
                and os.read(descriptor, len(magic)) == magic)
    except OSError:
        return False
    finally:
        os.close(descriptor)


def _unlink(folder: int, name: str) -> None:
    with contextlib.suppress(OSError):  # another run removed it, or it is not ours
        os.unlink(name, dir_fd=folder)
