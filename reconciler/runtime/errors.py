"""The reconciler's exceptions. Every one carries a message a user can act on.

    ReconcilerError            anything the CLI reports and exits 1 for
    ├── ConfigError            the config is invalid; carries every Problem found
    ├── TenantError            the tenant could not be read or written
    │   ├── TenantUnreachable  the tenant URL names nothing we can open
    │   ├── TenantLocked       another apply holds the tenant
    │   └── TenantMismatch     the tenant belongs to another config (`tenant:`)
    ├── SecretError            a secret reference cannot be resolved
    └── ApplyError             a step of an apply failed; earlier steps stand
        └── ApplyStopped       a signal or a closed stdout stopped an apply

Outside exceptions (sqlite3, OSError, yaml) are mapped to these at the module
that calls the outside library, chained with `from`, and never shown raw.
"""

from __future__ import annotations

from schema.declarations import TenantConfig
from schema.problems import Problem


class ReconcilerError(Exception):
    """An error the user can fix; `str()` is the whole message."""


class ConfigError(ReconcilerError):
    """`config`: what could be read despite the problems (None if tenant.yaml failed),
    for a run limited to sites whose files have none of them."""

    def __init__(self, problems: list[Problem], config: TenantConfig | None = None) -> None:
        self.problems = problems
        self.config = config
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found in the configuration")


class TenantError(ReconcilerError):
    pass


class TenantUnreachable(TenantError):
    pass


class TenantLocked(TenantError):
    pass


class TenantMismatch(TenantError):
    pass


class SecretError(ReconcilerError):
    pass


class ApplyError(ReconcilerError):
    pass


class ApplyStopped(ApplyError):
    pass
