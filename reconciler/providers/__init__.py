"""Providers: where the tenant's current state is read from and written to.

`open_provider` turns a tenant URL into a provider. Today: `sqlite:///PATH`, the
embedded local tenant (`sqlite:///rel/path.db`, `sqlite:////abs/path.db`).
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import TenantUnreachable
from reconciler.providers.base import Provider
from reconciler.providers.sqlite_tenant import SqliteTenant

DEFAULT_TENANT_URL = "sqlite:///.reconciler/tenant.db"
_SQLITE_PREFIX = "sqlite:///"


def open_provider(url: str) -> Provider:
    if url.startswith(_SQLITE_PREFIX) and len(url) > len(_SQLITE_PREFIX):
        return SqliteTenant(Path(url[len(_SQLITE_PREFIX):]))
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise TenantUnreachable(
        f"unsupported tenant URL '{_redacted(url)}' (scheme '{scheme}'); "
        f"use {_SQLITE_PREFIX}PATH, e.g. {DEFAULT_TENANT_URL}"
    )


def _redacted(url: str) -> str:
    """Hide a password in a URL such as scheme://user:secret@host before printing it."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


__all__ = ["DEFAULT_TENANT_URL", "Provider", "SqliteTenant", "open_provider"]
