"""What the reconciler needs from a tenant, whatever stores it.

A provider reads the whole managed state in bulk and writes one resource per
call. Each write is atomic: it happens entirely or not at all, so an apply that
stops half way leaves a tenant a fresh plan can continue from.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from schema.state import Fields, ResourceKey, TenantFacts, TenantState


class Provider(Protocol):
    #: How to name this tenant in messages; never holds a secret.
    description: str

    def exists(self) -> bool:
        """False for a tenant that has never been written to (nothing to read yet)."""
        ...

    def initialise(self, facts: TenantFacts) -> None:
        """Create the tenant's storage with these facts, if it does not exist yet."""
        ...

    def read_state(self) -> TenantState:
        """Every resource and the tenant's facts, read in one bulk pass per kind."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Hold the tenant for one apply; a second apply fails instead of waiting."""
        ...

    def create(self, key: ResourceKey, fields: Fields, password: str | None) -> None:
        """Create a resource, marked as managed by this tool."""
        ...

    def update(self, key: ResourceKey, fields: Fields, password: str | None,
               adopt: bool = False) -> None:
        """Set `fields` (only those given) on an existing resource; with `adopt`, also
        mark it as managed by this tool."""
        ...

    def renumber(self, key: ResourceKey, number: str) -> None:
        """Give a resource a new number, keeping everything else (memberships too)."""
        ...

    def delete(self, key: ResourceKey) -> None: ...

    def close(self) -> None: ...
