"""The embedded tenant's file: what is at the path, creating it whole, opening it, migrating it.

A new tenant is built in a private temporary file beside the target, in one
transaction, then renamed over the target: whoever looks, whenever the builder
dies (kill -9, a full disk), finds either no tenant or a complete one. A file
that holds no tenant (0 bytes, or SQLite with no tables) counts as no tenant and
is replaced; any other file is refused, never overwritten.

Plans open the file read-only, and in a folder they cannot write (a read-only
checkout or file system) read it as immutable, which is exact when no write-
ahead log is pending.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from reconciler.providers import tenant_writes
from reconciler.providers.schema_scripts import read_script, versioned_scripts
from reconciler.runtime import failpoints
from reconciler.runtime.errors import TenantError, TenantUnreachable
from schema.state import TenantFacts

# The script that takes a tenant to each version, run in order from its own; the
# latest is this tool's version.
_SCRIPTS = versioned_scripts("sqlite_schema_")
SCHEMA_VERSION = max(_SCRIPTS)
_OLDEST_MIGRATABLE = 3


#: Columns added to schema 4 after its first release (no new number was given): a
#: version-4 tenant without them is brought up to date like an older one.
_LATE_4 = "sqlite_schema_4_late.sql"


@dataclass(frozen=True, slots=True)
class Contents:
    """What a tenant path holds: no tenant, or a tenant of some schema version."""

    version: int | None  # None: nothing yet (absent, empty, or SQLite without tables)
    lacks_late_4: bool = False  # schema 4 of its first release

    @property
    def holds_tenant(self) -> bool:
        return self.version is not None

    @property
    def behind(self) -> bool:
        """Older than this tool writes: read through a migrated copy, migrated by apply."""
        return self.version is not None and self.version < SCHEMA_VERSION


#: Files SQLite opens beside the tenant by name, following links: a link planted there
#: would have SQLite read or write another file.
SIDE_FILES = ("-wal", "-shm", "-journal")


def checked_path(path: Path, shown: str) -> Path:
    """The path to use for the tenant: its folder resolved (so every apply locks the
    same file however it names it), the tenant file itself never a symlink. A relative
    path lies in the checkout, where a pull request can commit links: no folder on it
    may be a link either (an absolute path is the job's own choice), nor any file
    SQLite keeps beside the tenant."""
    if path.is_symlink():
        raise TenantUnreachable(
            f"tenant {shown} is a symbolic link (to {os.readlink(path)}); point --tenant at "
            "the file itself, so that every apply locks the same file"
        )
    if not path.is_absolute():
        for folder in reversed(path.parents[:-1]):  # from the working directory down
            if folder.is_symlink():
                raise TenantUnreachable(
                    f"tenant {shown}: its folder {folder} is a symbolic link (to "
                    f"{os.readlink(folder)}); a tenant in the checkout is never reached "
                    "through a link (a pull request could commit one): delete the link, or "
                    "give --tenant an absolute path")
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.is_symlink():
            raise TenantUnreachable(
                f"tenant {shown}: {side} is a symbolic link; SQLite would read or write "
                "through it, so refusing to open the tenant; delete the link")
    if path.is_dir():
        raise TenantUnreachable(f"tenant {shown} is a directory; point --tenant at a file, "
                                "e.g. sqlite:///.reconciler/tenant.db")
    return path.parent.resolve() / path.name


def contents(path: Path, shown: str) -> Contents:
    try:
        info = path.stat()
    except FileNotFoundError:
        return Contents(None)
    except OSError as error:
        raise TenantUnreachable(f"cannot read tenant {shown}: {error.strerror}") from error
    if not stat.S_ISREG(info.st_mode):
        raise TenantUnreachable(f"tenant {shown} is not a regular file; refusing to use it")
    if info.st_size == 0:
        return Contents(None)
    try:
        with contextlib.closing(open_for_reading(path, shown)) as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            late = version == 4 and _lacks_late_4(connection)
    except sqlite3.Error as error:
        raise TenantUnreachable(f"cannot open tenant {shown}: {error}; is it a tenant "
                                "database written by reconcile apply?") from error
    if version == 0 and tables == 0:
        return Contents(None)
    if version < _OLDEST_MIGRATABLE:
        raise TenantUnreachable(f"{shown} is an SQLite file but not a tenant; refusing to "
                                "touch it; point --tenant at a tenant file")
    if version > SCHEMA_VERSION:
        raise TenantUnreachable(
            f"tenant {shown} has schema version {version}, newer than this reconciler's "
            f"{SCHEMA_VERSION}; upgrade ipecs-reconciler (never downgrade the tenant)")
    return Contents(version, late)


def _lacks_late_4(connection: sqlite3.Connection) -> bool:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(users)")}
    return "password_from" not in columns


def open_for_writing(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    connection.execute("PRAGMA foreign_keys = ON")
    # WAL with synchronous=NORMAL: a commit no longer waits for fsync, which made
    # one-transaction-per-step applies 1 ms a step; a power cut can lose at most the
    # last steps, and the journal plus a fresh plan redo them.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    # 64 MiB of page cache (SQLite's default is 2 MiB): a 100,000-number tenant's
    # indexes then stay in memory, and a step costs the same at any size.
    connection.execute("PRAGMA cache_size = -65536")
    return connection


def open_for_reading(path: Path, shown: str) -> sqlite3.Connection:
    """A read-only connection. In a folder we may not write, SQLite cannot make the
    shared-memory file a WAL reader needs; with no log pending, the file alone is
    the whole state, so it is read as immutable."""
    uri = f"file:{quote(str(path))}?mode=ro"
    writable_folder = os.access(path.parent, os.W_OK)
    log_pending = Path(f"{path}-wal").exists()
    if not writable_folder and not log_pending:
        uri += "&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5)
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError as error:
        if not writable_folder and log_pending:
            raise TenantUnreachable(
                f"cannot read tenant {shown}: its folder is read-only and an apply left a "
                "write-ahead log to replay; run the plan where the folder is writable") from error
        raise
    return connection


def create(path: Path, facts: TenantFacts, name: str,
           fill: Callable[[sqlite3.Connection], None] | None = None) -> None:
    """Build a complete tenant at `path` in one step, or leave `path` as it was: its
    facts, or with `fill` a copy's rows. The caller holds the tenant's lock, so no one
    else is building it too."""
    folder = path.parent
    _remove_leftovers(path)
    temporary = folder / f"{_temporary_prefix(path)}{uuid.uuid4().hex}"
    try:
        os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        with contextlib.closing(sqlite3.connect(temporary, isolation_level=None)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            with transaction(connection):
                migrate(connection, 0, name)
                if fill is None:
                    tenant_writes.write_facts(connection, facts)
                else:
                    fill(connection)
                failpoints.reach("setup")
        _sync(temporary)
        os.replace(temporary, path)
        _sync(folder)
    except (OSError, sqlite3.Error, tenant_writes.Refused) as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise TenantError(f"could not create tenant {path}: {reason}; nothing was "
                          "written, and the next apply tries again") from error


def migrate(connection: sqlite3.Connection, version: int, name: str | None) -> None:
    """Take a tenant from `version` to SCHEMA_VERSION inside the caller's transaction.
    `name`: whose a new tenant is. An older tenant keeps what it records: a version-3
    tenant recorded nobody, and a migration never decides for it (whichever config
    came first would take it); `reconcile tenant claim` states its owner."""
    late = version == 4 and _lacks_late_4(connection)
    for statement in migration_statements(version, late):
        connection.execute(statement)
    if name is not None:
        tenant_writes.record_identity(connection, name)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrated_copy(connection: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of an older tenant, migrated: how a plan reads an older tenant
    without writing to it. Its identity is left unrecorded (none is known)."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    connection.backup(copy)
    version = copy.execute("PRAGMA user_version").fetchone()[0]
    with transaction(copy):
        migrate(copy, version, None)
    return copy


def migration_statements(version: int, lacks_late_4: bool = False) -> list[str]:
    """What `migrate` runs on a tenant of `version` (also for `tenant migrate --dry-run`):
    each script newer than it, schema 4's later columns right after schema 4 (or first,
    on a version-4 tenant of schema 4's first release, which lacks them)."""
    scripts = [_LATE_4] if version == 4 and lacks_late_4 else []
    for target, script in _SCRIPTS.items():
        if target > version:
            scripts.append(script)
            if target == 4:
                scripts.append(_LATE_4)
    return [statement.strip() for script in scripts
            for statement in _statements(_read_script(script))]


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}.new-"


def _remove_leftovers(path: Path) -> None:
    """Temporary files of this tenant's builders that died: only the lock holder
    builds, and we hold the lock."""
    for leftover in path.parent.glob(f"{_temporary_prefix(path)}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_script(name: str) -> str:
    return read_script(name).decode()


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into statements (triggers hold several ';' of their own).
    executescript() would commit on its own; a schema goes in one transaction."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer
