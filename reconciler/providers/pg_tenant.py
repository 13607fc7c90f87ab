"""A tenant kept in PostgreSQL: the shared state CI runners and engineers all reach.

One database holds many tenants, each in a schema of its own, found through the
catalogue (`reconciler.tenants`) by its key: `?tenant=` in the URL, else the
config's `tenant:` name. The tables, their integrity (constraints and triggers in
`pg_schema_4.sql`), the identities and the apply journal are the embedded tenant's,
so the same SQL reads and writes both (`tenant_tables`, `tenant_writes`).

Each step is one transaction. A plan reads one snapshot (a read-only REPEATABLE
READ transaction) and takes no lock; an apply holds a session advisory lock
(`pg_locking`) that the server releases when its connection ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
from psycopg import sql

from reconciler.providers import (
    pg_locking,
    pg_roles,
    pg_schemas,
    refusals,
    tenant_tables,
    tenant_writes,
)
from reconciler.providers.lock_holders import LockHolder
from reconciler.providers.pg_database import PgDatabase, as_sqlite_words, snapshot
from reconciler.providers.pg_urls import parse
from reconciler.providers.schema_scripts import read_script
from reconciler.providers.tenant_tables import TenantDump
from reconciler.providers.tenant_writes import Refused
from reconciler.runtime import failpoints
from reconciler.runtime.errors import TenantError, TenantUnreachable
from reconciler.runtime.redaction import redact_url
from schema.state import Fields, NewPassword, ResourceKey, TenantFacts, TenantState

_OPEN_TRANSACTION = (psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR)


class PostgresTenant:
    def __init__(self, url: str) -> None:
        parsed = parse(url)
        self._conninfo = parsed.conninfo
        self._key = parsed.tenant
        self.description = parsed.shown
        self._connection: psycopg.Connection | None = None
        self._schema: str | None = None
        self._found: tuple[str, int] | None = None  # schema and version, once found

    def bind(self, tenant: str) -> None:
        """Nothing: which tenant a job reaches is the URL's `?tenant=`, set by CI, never
        the config's `tenant:`, which a pull request can edit (a renamed `tenant:` would
        otherwise plan another customer's tenant). The name is checked against the
        tenant's own record instead (`ensure_same_tenant`)."""

    # --- what is there --------------------------------------------------------
    def exists(self) -> bool:
        return self._lookup() is not None

    def schema_version(self) -> int | None:
        found = self._lookup()
        return found[1] if found else None

    def latest_schema(self) -> int:
        return pg_schemas.SCHEMA_VERSION

    def pending_migration(self) -> list[str]:
        """The scripts taking this tenant to pg_schemas.SCHEMA_VERSION (schema 4 is the first)."""
        version = self.schema_version()
        if version is None:
            return []
        return [script.decode() for script in pg_schemas.scripts_after(version)]

    def initialise(self, facts: TenantFacts, name: str) -> str | None:
        """Create the tenant (catalogue entry, schema, tables, facts, identity) in one
        transaction if it does not exist; or migrate an older one, in one transaction."""
        found = self._lookup()
        if found is not None:
            return self._migrate(*found)
        self._create(name, lambda db: tenant_writes.write_facts(db, facts))
        return f"created tenant {name!r} at {self.description}"

    def dump(self) -> TenantDump:
        found = self._lookup()
        if found is None:
            raise TenantError(f"tenant {self.description} does not exist")
        connection = self._open()
        with snapshot(connection):
            return tenant_tables.dump(PgDatabase(connection), found[1])

    def restore(self, rows: TenantDump) -> None:
        """Create this tenant as a copy of another's rows, whole or not at all."""
        if self._lookup() is not None:
            raise TenantError(f"{self.description} already holds a tenant; copy only into "
                              "a place that holds none")
        name = rows["tenant_identity"][0][1] if rows.get("tenant_identity") else "copy"
        self._create(name, lambda db: pg_schemas.restore_counting_once(db, rows))

    def _create(self, name: str, fill: Callable[[PgDatabase], None]) -> None:
        key = self._required_key()

        def create(db: PgDatabase) -> None:
            connection = db.connection
            row = connection.execute("SELECT nextval('reconciler.tenant_schemas')").fetchone()
            assert row is not None
            number = row[0]
            schema = f"tenant_{number}"
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(
                sql.Identifier(schema)))
            for script in pg_schemas.scripts_after(0):
                connection.execute(script)
            tenant_writes.record_identity(db, name)
            fill(db)
            owner = tenant_writes.identity_name(db)
            pg_schemas.record_unknown_owners(connection)  # tenants made before owners were recorded
            taken = connection.execute("SELECT key FROM reconciler.tenants WHERE owner = %s",
                                       (owner,)).fetchone()
            if taken is not None:
                raise tenant_writes.Refused(
                    f"{json.dumps(owner)} already has a tenant in this database (key "
                    f"{taken[0]!r}); a customer's tenant is never made twice: point ?tenant= "
                    f"at {taken[0]!r}, or rename the other first (reconcile tenant rename)")
            connection.execute("INSERT INTO reconciler.tenants (key, schema_name, schema_version,"
                               " owner) VALUES (%s, %s, %s, %s)",
                               (key, schema, pg_schemas.SCHEMA_VERSION, owner))
            failpoints.reach("setup")

        self._ensure_catalogue()
        self._run(f"create tenant {key!r}", create, in_schema=False)
        self._schema, self._found = None, None

    def _migrate(self, schema: str, version: int) -> str | None:
        if version >= pg_schemas.SCHEMA_VERSION:
            return None

        try:
            self._run("migrate the tenant's schema",
                      lambda db: pg_schemas.migrate(db.connection, schema, version))
        except TenantError as error:
            if not isinstance(error.__cause__, psycopg.errors.InsufficientPrivilege):
                raise
            raise TenantError(
                f"tenant {self.description} has schema {version}, and this tool writes "
                f"{pg_schemas.SCHEMA_VERSION}: the role that created the tenant migrates it, "
                "once (reconcile tenant migrate, with that role in the URL); this role may "
                "only read and write its rows. Nothing was changed") from error
        self._found = None
        return f"migrated tenant schema {version} -> {pg_schemas.SCHEMA_VERSION}"

    def lock(self, timeout: float = 0.0) -> AbstractContextManager[None]:
        """Held by the writer only: a role that may only read (a plan job's) is refused
        here, in words that say so, before anything is written or waited for."""
        self._refuse_read_only_role()
        self._ensure_catalogue()
        return pg_locking.held(self._open(), self._required_key(), self.description, timeout)

    def _refuse_read_only_role(self) -> None:
        pg_roles.refuse_read_only(self._open(), self._lookup, self._required_key,
                                  self.description)

    def lock_holder(self) -> LockHolder | None:
        return pg_locking.holder_of(self._open(), self._required_key())

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
            self._schema, self._found = None, None

    # --- reading --------------------------------------------------------------
    def read_state(self) -> TenantState:
        """One snapshot: a read-only, repeatable-read transaction; each table streamed.
        A tenant of an older schema is read as it is (a plan never migrates it)."""
        found = self._lookup()
        if found is None:
            return TenantState()
        connection = self._open()
        try:
            with snapshot(connection):
                return tenant_tables.read_state(PgDatabase(connection, streaming=True),
                                                found[1])
        except psycopg.Error as error:
            raise TenantError(f"cannot read tenant {self.description}: "
                              f"{redact_url(str(error))}") from error

    def check_integrity(self) -> list[str]:
        if self._lookup() is None:
            return ["the tenant does not exist"]
        connection = self._open()
        with snapshot(connection):
            return tenant_tables.bookkeeping_problems(PgDatabase(connection))

    # --- the apply journal and writes -----------------------------------------
    def begin_apply(self, plan_checksum: str, total_steps: int, started_by: str) -> None:
        self._run("record the apply in its journal", lambda db: tenant_writes.begin_journal(
            db, plan_checksum, total_steps, started_by))

    def finish_apply(self) -> None:
        self._run("close the apply's journal", tenant_writes.finish_journal)

    def create(self, key: ResourceKey, fields: Fields, password: NewPassword | None, *,
               step: int | None = None) -> None:
        self._run(f"create {key}", lambda db: tenant_writes.create(db, key, fields, password),
                  step=step, key=key, fields=fields, pipelined=True)

    def update(self, key: ResourceKey, fields: Fields, password: NewPassword | None,
               adopt: bool = False, *, step: int | None = None) -> None:
        self._run(f"{'adopt' if adopt else 'update'} {key}",
                  lambda db: tenant_writes.update(db, key, fields, password, adopt),
                  step=step, key=key, fields=fields, pipelined=True)

    def renumber(self, key: ResourceKey, number: str, heading_for: str | None = None, *,
                 step: int | None = None) -> None:
        self._run(f"renumber {key} to {number}",
                  lambda db: tenant_writes.renumber(db, key, number, heading_for),
                  step=step, key=key, pipelined=True)

    def delete(self, key: ResourceKey, *, step: int | None = None) -> None:
        self._run(f"delete {key}", lambda db: tenant_writes.delete(db, key), step=step, key=key,
                  pipelined=True)

    def set_facts(self, facts: TenantFacts) -> None:
        if self._lookup() is None:
            raise TenantError(f"tenant {self.description} does not exist yet; apply first")
        self._run("set facts of the tenant", lambda db: tenant_writes.write_facts(db, facts))

    def grant(self, reader: str | None, writer: str | None) -> list[str]:
        """Let `reader` read this tenant as a plan needs (not its password hashes) and
        `writer` apply to it; nothing of any other tenant. Run by the tenant's owner
        (the role that created it) or an administrator; the statements it ran."""
        found = self._lookup()
        if found is None:
            raise TenantError(f"tenant {self.description} does not exist yet; the first apply "
                              "(by the role that owns the catalogue) creates it")
        connection = self._open()
        statements = pg_roles.grants(connection, found[0], reader, writer)
        try:
            with connection.transaction():
                for statement in statements:
                    connection.execute(statement)
        except psycopg.Error as error:
            raise TenantError(f"could not grant on {self.description}: "
                              f"{redact_url(str(error)).strip()}; run it as the role that "
                              "created the tenant, or an administrator; nothing was granted"
                              ) from error
        return [statement.as_string(connection) for statement in statements]

    def rename(self, old: str, new: str) -> None:
        """Rename whose the tenant is; the catalogue's key (the job's) stays."""
        if self._lookup() is None:
            raise TenantError(f"tenant {self.description} does not exist yet")

        key = self._required_key()

        def write(db: PgDatabase) -> None:
            tenant_writes.rename(db, old, new, self.description)
            # The key is the job's (its URL's ?tenant=): it stays; the owner follows.
            db.connection.execute("UPDATE reconciler.tenants SET owner = %s WHERE key = %s",
                                  (new, key))

        self._ensure_catalogue()  # a catalogue made before owners were recorded
        self._run("rename the tenant", write)

    # --- connection, schema, transactions ---------------------------------------
    def _open(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = psycopg.connect(self._conninfo, autocommit=True,
                                                   connect_timeout=10)
            except psycopg.Error as error:
                raise TenantUnreachable(
                    f"cannot connect to tenant {self.description}: "
                    f"{redact_url(str(error)).strip()}") from error
            self._schema, self._found = None, None
        return self._connection

    def _required_key(self) -> str:
        if self._key is None:
            raise TenantUnreachable(
                f"{self.description} names no tenant: add ?tenant=KEY to the URL where the job "
                "sets it (RECONCILER_TENANT), e.g. postgresql://ci@db/phones?tenant=acme; "
                "which tenant a job reaches is the job's choice, never tenant.yaml's "
                "`tenant:`, which a pull request can edit")
        return self._key

    def _lookup(self) -> tuple[str, int] | None:
        """The tenant's schema and its version, from the catalogue (asked once per
        connection while found); sets search_path."""
        if self._found is not None and self._connection is not None \
                and not self._connection.closed:
            return self._found
        connection = self._open()
        try:
            row = connection.execute(
                "SELECT schema_name, schema_version, has_schema_privilege(schema_name, "
                "'USAGE'), current_user FROM reconciler.tenants WHERE key = %s",
                (self._required_key(),)).fetchone()
        except psycopg.errors.UndefinedTable:
            return None  # no tenant in this database yet
        except psycopg.Error as error:
            raise TenantUnreachable(f"cannot read the tenant catalogue of {self.description}: "
                                    f"{redact_url(str(error)).strip()}") from error
        if row is None:
            return None
        if not row[2]:
            raise TenantUnreachable(
                f"role {row[3]} may not read tenant {self._required_key()!r} of "
                f"{self.description}: it is granted another tenant, or none (reconcile "
                "tenant grant); check the job's ?tenant= and PGUSER")
        if row[1] > pg_schemas.SCHEMA_VERSION:
            raise TenantUnreachable(
                f"tenant {self.description} has schema version {row[1]}, newer than this "
                f"reconciler's {pg_schemas.SCHEMA_VERSION}; upgrade ipecs-reconciler (never "
                "downgrade the tenant)")
        if self._schema != row[0]:
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(row[0])))
            self._schema = row[0]
        self._found = (row[0], row[1])
        return self._found

    def _ensure_catalogue(self) -> None:
        """Make the catalogue, or bring one made by an earlier version up to date; a
        current one is left as it is (only its owner may change it)."""
        try:
            with self._open().transaction():
                current = self._open().execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                    "'reconciler' AND table_name = 'tenants' AND column_name = 'owner'"
                ).fetchone()
                if current is None:
                    self._open().execute(read_script("pg_catalogue.sql"))
        except psycopg.Error as error:
            raise TenantUnreachable(
                f"cannot prepare the tenant catalogue in {self.description}: "
                f"{redact_url(str(error)).strip()}; the role needs CREATE on the database "
                "the first time (see docs/providers.md, 'Shared tenant for CI')") from error

    def _run(self, doing: str, write: Callable[[PgDatabase], object], *, step: int | None = None,
             key: ResourceKey | None = None, fields: Fields | None = None,
             in_schema: bool = True, pipelined: bool = False) -> None:
        """One step in one transaction, which also moves the journal on to `step`. With
        `pipelined`, BEGIN, the step's statements, the journal and COMMIT go to the
        server together and are answered together: one round trip (a write that must
        read first waits for that read, inside the same transaction)."""
        if in_schema and self._lookup() is None:
            raise TenantError(f"tenant {self.description} does not exist yet")
        connection = self._open()
        db = PgDatabase(connection)
        try:
            if pipelined:
                self._pipelined(db, write, step)
            else:
                with connection.transaction():
                    write(db)
        except TenantError:
            raise
        except Refused as refusal:
            raise TenantError(f"the tenant refused to {doing}: {refusal}") from refusal
        except psycopg.errors.NoDataFound as error:
            raise TenantError(f"the tenant refused to {doing}: "
                              f"{error.diag.message_primary}") from error
        except psycopg.Error as error:
            why = refusals.explain(as_sqlite_words(error), db, key, fields or {})
            raise TenantError(f"the tenant refused to {doing}: {why}") from error

    @staticmethod
    def _pipelined(db: PgDatabase, write: Callable[[PgDatabase], object], step: int | None) -> None:
        # The connection is in autocommit mode, so the transaction is spelled out:
        # psycopg's own would wait for its BEGIN, and an implicit one would commit at
        # any read's sync half-way through a step.
        connection = db.connection
        try:
            with connection.pipeline() as pipeline:
                db.pipeline = pipeline
                connection.execute(b"BEGIN")
                write(db)
                if step is not None:
                    tenant_writes.step_journal(db, step)
                    failpoints.reach(f"step-{step}-write")
                connection.execute(b"COMMIT")
        finally:
            db.pipeline = None
            if connection.info.transaction_status in _OPEN_TRANSACTION:
                # psycopg's rollback, not a ROLLBACK statement: it also forgets the
                # statements it meant to prepare in the aborted pipeline, which the
                # server skipped (else the next step reuses a name that never existed).
                connection.rollback()

