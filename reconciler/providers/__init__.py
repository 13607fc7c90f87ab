"""Providers: where the tenant's current state is read from and written to.

`open_provider` turns a tenant URL into a provider. Today: `sqlite:///PATH`, the
embedded local tenant (`sqlite:///rel/path.db`, `sqlite:////abs/path.db`).
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import TenantUnreachable
from reconciler.providers.base import Provider
from reconciler.providers.sqlite_tenant import SqliteTenant
from reconciler.redaction import redact_url

DEFAULT_TENANT_URL = "sqlite:///.reconciler/tenant.db"
_SQLITE_PREFIX = "sqlite:///"


def open_provider(url: str) -> Provider:
    if not url.strip():
        raise TenantUnreachable(
            "the tenant URL is empty (an empty --tenant or RECONCILER_TENANT); name the "
            f"tenant, e.g. {DEFAULT_TENANT_URL}, or unset RECONCILER_TENANT for that default")
    if url.startswith(_SQLITE_PREFIX) and len(url) > len(_SQLITE_PREFIX):
        return SqliteTenant(Path(url[len(_SQLITE_PREFIX):]))
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise TenantUnreachable(
        f"unsupported tenant URL '{redact_url(url)}' (scheme '{scheme}'); "
        f"use {_SQLITE_PREFIX}PATH, e.g. {DEFAULT_TENANT_URL}"
    )


__all__ = ["DEFAULT_TENANT_URL", "Provider", "SqliteTenant", "open_provider"]
