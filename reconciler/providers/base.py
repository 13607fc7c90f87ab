"""What the reconciler needs from a tenant, whatever stores it: the provider contract.

A provider must guarantee:

- **Atomic steps.** Each write (create, update, renumber, delete) happens
  entirely or not at all, and with `step=N` it moves the apply's journal to N in
  the same transaction, so the journal's count is exact whenever the process
  dies.
- **A whole tenant or none.** `initialise` creates the tenant (schema, facts,
  whose it is) in one step: an interrupted first apply leaves no tenant or a
  complete one.
- **Identity.** Every resource keeps one identity (`TenantState.uids`) for
  life, whatever its number; a renumber records the number it came from, and a
  renumber to a temporary number records where the resource is heading.
- **The journal.** `begin_apply` records the plan being applied; each step moves
  it on; `finish_apply` clears it. An apply that stopped is visible in
  `TenantState.unfinished` until the next apply finishes.
- **Snapshot reads.** `read_state` sees one consistent state, never half of a
  step, even while an apply writes.
- **The lock.** `lock` admits one apply at a time, names the holder to anyone
  else, and is released when its holder's process ends, however it ends.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from reconciler.providers.lock_holders import LockHolder
from reconciler.providers.tenant_tables import TenantDump
from schema.settings import TenantSettings
from schema.state import Fields, NewPassword, ResourceKey, TenantFacts, TenantState


class Provider(Protocol):
    #: How to name this tenant in messages; never holds a secret.
    description: str

    def bind(self, tenant: str) -> None:
        """The config's `tenant:` name: a provider holding many tenants (a database)
        finds this one by it, unless its URL named one."""
        ...

    def exists(self) -> bool:
        """False for a tenant that has never been written to (nothing to read yet)."""
        ...

    def initialise(self, facts: TenantFacts, name: str) -> str | None:
        """Create the tenant for `name` with these facts if there is none (or bring an
        older one up to date); say what was done, or None if nothing was needed."""
        ...

    def read_state(self) -> TenantState:
        """Every resource, the facts, identity and journal, in one consistent read."""
        ...

    def lock(self, timeout: float = 0.0) -> AbstractContextManager[None]:
        """Hold the tenant for one apply; wait up to `timeout` seconds for another
        holder, then fail naming it."""
        ...

    def lock_holder(self) -> LockHolder | None:
        """Who holds the lock now, if anyone."""
        ...

    def begin_apply(self, plan_checksum: str, total_steps: int, started_by: str) -> None: ...

    def finish_apply(self) -> None: ...

    def create(self, key: ResourceKey, fields: Fields, password: NewPassword | None, *,
               step: int | None = None) -> None:
        """Create a resource, marked as managed by this tool."""
        ...

    def update(self, key: ResourceKey, fields: Fields, password: NewPassword | None,
               adopt: bool = False, *, step: int | None = None) -> None:
        """Set `fields` (only those given) on an existing resource; with `adopt`, also
        mark it as managed by this tool."""
        ...

    def renumber(self, key: ResourceKey, number: str, heading_for: str | None = None, *,
                 step: int | None = None) -> None:
        """Give a resource a new number, keeping everything else (memberships too);
        `heading_for` marks `number` as a temporary one on the way there."""
        ...

    def delete(self, key: ResourceKey, *, step: int | None = None) -> None: ...

    def rename(self, old: str, new: str) -> None:
        """Record that the tenant named `old` is now `new` (refused if it is not `old`)."""
        ...

    def schema_version(self) -> int | None:
        """The version of the tenant's storage schema (None: no tenant yet)."""
        ...

    def latest_schema(self) -> int:
        """The schema version this tool writes; an older tenant is migrated to it."""
        ...

    def pending_migration(self) -> list[str]:
        """What migrating this tenant to `latest_schema` would run (empty: nothing)."""
        ...

    def dump(self) -> TenantDump:
        """Every row a copy of the tenant needs (password hashes and identities too)."""
        ...

    def restore(self, rows: TenantDump) -> None:
        """Become a copy of a dumped tenant, whole or not at all; refused where a tenant
        exists already."""
        ...

    def check_integrity(self) -> list[str]:
        """What is wrong with the tenant's own bookkeeping; empty when nothing is."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RecordsFacts(Protocol):
    """A stand-in tenant that can be told what was bought (the embedded one); a real
    tenant learns it from the provider that sells the licences."""

    def set_facts(self, facts: TenantFacts) -> None: ...


@runtime_checkable
class ReadOnlyView(Protocol):
    """A view of a real tenant that this tool can read but never write (the portal's
    List Download file). Its state says what it shows (`TenantState.visibility`)."""

    def configure(self, settings: TenantSettings) -> None:
        """tenant.yaml's settings: how to read the view (its columns)."""
        ...

    def write_refusal(self) -> str:
        """Why nothing can be written, and the ways to change the real tenant."""
        ...


@runtime_checkable
class Claimable(Protocol):
    """A provider whose older tenants may not record whose they are (the embedded file
    before schema 4): `tenant claim` states it, once."""

    def claim(self, name: str) -> str | None:
        """Record that the tenant is `name`'s, migrating its schema in the same
        transaction (said, or None); refused if it records an owner already."""
        ...
