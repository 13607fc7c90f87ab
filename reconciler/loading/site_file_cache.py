"""Validated site files kept between runs, so a plan after a one-file change reads one file.

An entry holds what loading one site file gave (its resources as validated models, their
canonical fields, its `site:` settings and where each item starts), named by a hash of
the tool's code, the file's path, its site and its bytes. It is used only if

- its name matches: the same bytes, at the same path, read by the same code (schema,
  YAML reading, loading, this module) under the same Python, pydantic and PyYAML: a
  different version never trusts an entry, it just misses;
- its HMAC-SHA256 tag verifies under a key the checkout cannot hold (`cache_key`).
  Entries live outside the checkout (`cache_root`: the user's cache directory, one
  folder per config tree), but a CI system may keep them in it, where a pull request
  can commit files: an entry it crafted under a predictable name would make a plan
  show what the files do not say. The tag also covers the entry's name, so a genuine
  entry moved to another name is refused too. Nothing there is followed through a
  link, and every read is bounded (`cache_folder`).

Anything else (unreadable, truncated, another key, a stray file) counts as an error, is
ignored, and the file is parsed and validated as if there were no cache; the fresh result
replaces the entry. Only files that loaded without a single problem are stored, so every
problem message still comes from reading the file. `apply` never reads the cache: what
it writes comes from the files themselves (runs.apply_run).

Only what the files say is stored: a password is an environment variable's name in a
site file, never its value, and values are never read while loading.

Entries are marshal data (the fastest format Python reads back; only ever loaded after
the tag verifies), models rebuilt without validating again: they were validated by
this very code when stored. Measured in BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import marshal
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pydantic
import pydantic_core
import yaml

import reconciler
from reconciler.loading import cache_folder
from reconciler.loading.cache_key import KEY_VARIABLE as KEY_VARIABLE
from reconciler.loading.cache_key import KeyRefused, cache_key, user_cache_home
from reconciler.loading.model_values import SHAPES, NotCacheable, decode, encode
from schema import kinds
from schema.declarations import Declared, DeclaredSite
from schema.locations import Location
from schema.resources import Resource
from schema.settings import SiteSettings
from schema.state import ResourceKey

SWITCH_VARIABLE = "RECONCILER_CACHE"  # "off" turns the cache off
DIR_VARIABLE = "RECONCILER_CACHE_DIR"
_MAGIC = b"ipecs-reconciler site-file cache 1\n"
_TAG_BYTES = 32
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}")
_VERSION_NAME = re.compile(r"[0-9a-f]{16}")
#: The code whose behaviour an entry depends on: a change to any of it is a new version.
_FINGERPRINTED = ("schema", "reconciler/loading")


# --- where a cached item was written -----------------------------------------------------

class _CachedFile:
    """A cached file's bytes, parsed again only if a message needs a position inside it."""

    __slots__ = ("_data", "content", "shown")

    def __init__(self, shown: str, content: bytes) -> None:
        self.shown = shown
        self.content = content
        self._data: Any = None

    def node(self, path: tuple[str | int, ...]) -> Any:
        if self._data is None:
            from reconciler.loading.yaml_reading import parse_content
            self._data = parse_content(self.content, self.shown).data
        node = self._data
        for step in path:
            node = node[step]
        return node


ItemPath = tuple[str, int]


class CachedSource:
    """A SourceMap for a cached item: its own position is stored; a position inside it
    comes from parsing the same bytes again, so it is exactly what reading gives."""

    __slots__ = ("_at", "_file", "_path")

    def __init__(self, file: _CachedFile, path: tuple[str | int, ...],
                 at: tuple[int, int]) -> None:
        self._file = file
        self._path = path
        self._at = at  # line and column, from 1

    def locate(self, path: tuple[str | int, ...] = (), key: bool = False) -> Location:
        if not path:
            return Location(self._file.shown, *self._at)
        located: Location = self._file.node(self._path).locate(path, key)
        return located


# --- entries ----------------------------------------------------------------------------

@dataclass(slots=True)
class CachedSiteFile:
    """What loading a site file gave: its resources in order, and its `site:` settings."""

    declared: list[Declared]
    site_settings: DeclaredSite | None


@dataclass(slots=True)
class CacheCounts:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    written: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"cache: {self.hits} hit(s), {self.misses} miss(es), {self.errors} error(s), "
                f"{self.written} written")
        return "; ".join([text, *self.notes])


class SiteFileCache:
    """Entries of one code version in `folder` (a descriptor opened by `cache_folder`,
    or None when no folder could be had: every lookup then misses), authenticated
    with `key`."""

    def __init__(self, folder: int | None, key: bytes, version: str,
                 folder_error: str = "", parent: int | None = None) -> None:
        self.version = version
        self.counts = CacheCounts()
        self._key = key
        self._folder = folder
        self._parent = parent  # the folder holding every version's: pruned of the others
        self._used: set[str] = set()
        self._unwritable = folder is None
        if folder is None:
            self.counts.notes.append(f"nothing more written: {folder_error}")

    def entry_name(self, shown: str, site: str, content: bytes) -> str:
        digest = hashlib.sha256(f"{self.version}\0{shown}\0{site}\0{len(content)}\0".encode())
        digest.update(content)
        return digest.hexdigest()

    def _tag(self, name: str, payload: bytes) -> bytes:
        return hmac.new(self._key, name.encode() + b"\0" + payload, hashlib.sha256).digest()

    def lookup(self, shown: str, site: str, content: bytes) -> CachedSiteFile | None:
        name = self.entry_name(shown, site, content)
        self._used.add(name)
        if self._folder is None:
            self.counts.misses += 1
            return None
        try:
            # Bounded: an entry planted as a huge file is refused, not read.
            raw = cache_folder.read_entry(self._folder, name, _entry_limit(content))
        except FileNotFoundError:
            self.counts.misses += 1
            return None
        except OSError:
            self.counts.errors += 1
            return None
        found = self._open(name, raw, shown, content)
        if found is None:
            self.counts.errors += 1
        else:
            self.counts.hits += 1
        return found

    def _open(self, name: str, raw: bytes, shown: str, content: bytes
              ) -> CachedSiteFile | None:
        body = raw[len(_MAGIC):]
        tag, payload = body[:_TAG_BYTES], body[_TAG_BYTES:]
        if not raw.startswith(_MAGIC) or not hmac.compare_digest(tag, self._tag(name, payload)):
            return None
        try:
            return _rebuild(marshal.loads(payload), shown, content)
        except (ValueError, EOFError, TypeError, IndexError, KeyError):
            return None  # authentic but unreadable: only a bug of ours gets here

    def store(self, shown: str, site: str, content: bytes,
              declared: list[tuple[Declared, ItemPath]], site_settings: DeclaredSite | None
              ) -> None:
        """Keep what a file loaded as, when it loaded without a problem: each resource
        with where its item sits in the file (("users", 3))."""
        name = self.entry_name(shown, site, content)
        self._used.add(name)
        if self._unwritable or self._folder is None:
            return
        try:
            payload = marshal.dumps(_flatten(declared, site_settings))
        except (NotCacheable, ValueError):
            return  # a value this format cannot hold: the file is read each time
        if len(_MAGIC) + _TAG_BYTES + len(payload) > _entry_limit(content):
            return  # it could never be read back
        try:
            cache_folder.write_entry(self._folder, name,
                                     _MAGIC + self._tag(name, payload) + payload)
        except OSError as error:
            # Once is enough (a read-only folder): the run goes on without storing.
            self.counts.errors += 1
            self.counts.notes.append(f"nothing more written: {error.strerror}")
            self._unwritable = True
            return
        self.counts.written += 1

    def prune(self) -> None:
        """Remove this version's entries no file of this run asked for, every other
        version's, and temporaries a killed run left. Only regular files this module
        wrote are touched, never through a link."""
        if self._folder is not None:
            cache_folder.prune(self._folder, _ENTRY_NAME, self._used, _MAGIC)
        if self._parent is not None:
            cache_folder.remove_other_versions(self._parent, _VERSION_NAME, self.version,
                                               _ENTRY_NAME, _MAGIC)

    def close(self) -> None:
        for descriptor in (self._folder, self._parent):
            if descriptor is not None:
                with contextlib.suppress(OSError):
                    os.close(descriptor)
        self._folder = self._parent = None
        self._unwritable = True

    def __del__(self) -> None:
        self.close()


def _entry_limit(content: bytes) -> int:
    """The most an entry of a file this size can hold: models take a few times the
    YAML's bytes (measured: under 3x), so 8x and a megabyte leave room."""
    return (1 << 20) + 8 * len(content)


def _flatten(declared: list[tuple[Declared, ItemPath]],
             site_settings: DeclaredSite | None) -> Any:
    items = []
    for item, path in declared:
        at = item.at()
        items.append((item.site, path, (at.line, at.column), encode(item.resource),
                      item.fields()))
    settings = None
    if site_settings is not None:
        at = site_settings.source.locate()
        settings = (encode(site_settings.settings), (at.line, at.column))
    return (items, settings)


#: Per shape index of a kind's model: its kind, and the position of its number field.
_KIND_OF_SHAPE = {index: (kinds.of_model(shape.model).kind,
                          shape.names.index(kinds.of_model(shape.model).number_field))
                  for index, shape in enumerate(SHAPES)
                  if shape.model in {d.model for d in kinds.KINDS.values()}}


def _rebuild(payload: Any, shown: str, content: bytes) -> CachedSiteFile:
    """The file's Declared items again, key and canonical fields as stored."""
    items, settings = payload
    file = _CachedFile(shown, content)
    declared = []
    for site, path, at, resource, fields in items:
        kind, number_at = _KIND_OF_SHAPE[resource[0]]
        key = ResourceKey(site, kind, resource[1][number_at])
        model = cast(Resource, decode(resource))  # a kind's model: _KIND_OF_SHAPE has it
        declared.append(Declared.restored(model, CachedSource(file, path, at), key, fields))
    site_settings = None
    if settings is not None:
        decoded = decode(settings[0])
        if not isinstance(decoded, SiteSettings):
            raise TypeError("site settings expected")
        site_settings = DeclaredSite(decoded, CachedSource(file, ("site",), settings[1]))
    return CachedSiteFile(declared, site_settings)


# --- opening the cache ------------------------------------------------------------------

def code_version() -> str:
    """A hash of the code an entry depends on, and of the versions of what made it:
    Python (marshal's format, dict order), pydantic (the models' insides) and PyYAML
    (what a file parses to). Another version of any of them never trusts an entry."""
    digest = hashlib.sha256(
        f"{reconciler.__version__}\0{sys.version}\0{marshal.version}\0"
        f"{pydantic.VERSION}\0{pydantic_core.__version__}\0{yaml.__version__}\0"
        f"{getattr(yaml, '__with_libyaml__', False)}\0".encode())
    root = Path(reconciler.__file__).resolve().parent.parent
    for name in _FINGERPRINTED:
        path = root / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Where every checkout's cache lives: `RECONCILER_CACHE_DIR`, else the user's cache
    directory, outside any checkout."""
    given = environ.get(DIR_VARIABLE, "")
    return Path(given) if given else user_cache_home(environ) / "ipecs-reconciler" / "sites"


def checkout_folder(config_dir: Path) -> str:
    """One folder per config tree, named by its absolute path: two checkouts never prune
    each other's entries."""
    return hashlib.sha256(os.fsencode(config_dir.resolve())).hexdigest()[:16]


def version_folder(config_dir: Path, environ: Mapping[str, str] = os.environ) -> Path:
    """Where this version's entries for `config_dir` are (tests and people look here)."""
    return cache_root(environ) / checkout_folder(config_dir) / code_version()


def open_cache(config_dir: Path, environ: Mapping[str, str] = os.environ,
               enabled: bool = True) -> tuple[SiteFileCache | None, str]:
    """The cache for this run, or None and why not: said with --verbose, or always when
    it starts with "warning:" (something is wrong, and only the user can fix it)."""
    if not enabled or environ.get(SWITCH_VARIABLE, "").lower() in ("off", "0", "false", "no"):
        return None, "cache: off"
    try:
        key = cache_key(environ, config_dir)
    except KeyRefused as refused:
        return None, f"warning: cache off for this run: {refused}"
    try:
        version = code_version()
    except OSError as error:
        return None, f"cache: off: cannot read this tool's own code ({error.strerror})"
    root = cache_root(environ)
    try:
        parent = cache_folder.open_folder(root, (checkout_folder(config_dir),))
    except cache_folder.FolderRefused as refused:
        return None, f"warning: cache off for this run: {refused.strerror}"
    except OSError as error:
        return SiteFileCache(None, key, version, error.strerror or str(error)), ""
    try:
        folder = cache_folder.open_below(parent, version, root)
    except cache_folder.FolderRefused as refused:
        os.close(parent)
        return None, f"warning: cache off for this run: {refused.strerror}"
    except OSError as error:
        return SiteFileCache(None, key, version, error.strerror or str(error), parent), ""
    return SiteFileCache(folder, key, version, parent=parent), ""
