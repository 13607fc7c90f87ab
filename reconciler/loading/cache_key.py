"""The key that authenticates cache entries: the user's, never one a pull request can
plant or read.

`RECONCILER_CACHE_KEY` if the job sets it; else a random key made once in
`$XDG_CACHE_HOME/ipecs-reconciler/cache-key` (`~/.cache/...`). That file is used only
if it is a regular file (not a link), owned by this user, readable by nobody else
(mode 0600), and outside both the config tree and the checkout that holds it: a key
a pull request could commit, or a key any other user could read, authenticates
nothing. Anything else turns the cache off for the run, with a warning saying why.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

KEY_VARIABLE = "RECONCILER_CACHE_KEY"
_KEY_BYTES = 32


class KeyRefused(Exception):
    """No key may be used: the message says why and what to do."""


def user_cache_home(environ: Mapping[str, str]) -> Path:
    given = environ.get("XDG_CACHE_HOME")
    if given:
        return Path(given)
    return Path(environ.get("HOME", "~")).expanduser() / ".cache"


def checkout_of(config_dir: Path) -> Path:
    """The git work tree holding the config (the nearest folder with a `.git`), else
    the config folder itself."""
    start = config_dir.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def cache_key(environ: Mapping[str, str], config_dir: Path) -> bytes:
    given = environ.get(KEY_VARIABLE, "")
    if given:
        # fsencode: a variable holding bytes that are not UTF-8 is still a key.
        return hashlib.sha256(b"ipecs-reconciler cache key\0" + os.fsencode(given)).digest()
    path = user_cache_home(environ) / "ipecs-reconciler" / "cache-key"
    _refuse_inside(path, config_dir)
    try:
        return _read_key(path)
    except FileNotFoundError:
        return _make_key(path)


def _refuse_inside(path: Path, config_dir: Path) -> None:
    where = path.parent.resolve() / path.name
    for tree, what in ((config_dir.resolve(), "config tree"),
                       (checkout_of(config_dir), "checkout")):
        if where.is_relative_to(tree):
            raise KeyRefused(
                f"the key file {path} is inside the {what} ({tree}), where a pull request "
                f"can put one; set {KEY_VARIABLE}, or XDG_CACHE_HOME to a folder outside it")


def _read_key(path: Path) -> bytes:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise KeyRefused(f"the key file {path} cannot be used ({error.strerror}; a link is "
                         "never followed); delete it to let the tool make one") from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise KeyRefused(f"the key file {path} is not a regular file; delete it")
        if info.st_uid != os.geteuid():
            raise KeyRefused(f"the key file {path} belongs to another user (uid "
                             f"{info.st_uid}); delete it to let the tool make one")
        if stat.S_IMODE(info.st_mode) != 0o600:
            raise KeyRefused(f"the key file {path} has mode {stat.S_IMODE(info.st_mode):04o}, "
                             f"not 0600: others may read it; run chmod 600 {path}, or "
                             "delete it to let the tool make one")
        key = os.read(descriptor, _KEY_BYTES + 1)
    finally:
        os.close(descriptor)
    if len(key) != _KEY_BYTES:
        raise KeyRefused(f"{path} is not a key this tool made; delete it")
    return key


def _make_key(path: Path) -> bytes:
    """Random bytes, published with link() so that two runs racing agree on one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
        try:
            os.write(handle, secrets.token_bytes(_KEY_BYTES))
            os.close(handle)
            with contextlib.suppress(FileExistsError):  # another run made it first
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise KeyRefused(f"no key ({error.strerror}); set {KEY_VARIABLE}") from error
    return _read_key(path)
