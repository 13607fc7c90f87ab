"""Providers: where the tenant's current state is read from and written to.

`open_provider` turns a tenant URL into a provider: `sqlite:///PATH`, the embedded
local tenant (`sqlite:///rel/path.db`, `sqlite:////abs/path.db`);
`postgresql://USER@HOST:PORT/DB[?tenant=NAME]`, a tenant in PostgreSQL shared by CI
runners; or any scheme a third-party package registers in the
`reconciler.providers` entry-point group; or `list-download:///PATH.xlsx`, the portal's
User Setup List Download, read only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.providers.base import Provider
from reconciler.providers.sqlite_tenant import SqliteTenant
from reconciler.runtime.errors import TenantUnreachable
from reconciler.runtime.redaction import redact_url

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
    if scheme in ("postgresql", "postgres"):
        return _postgres(url)
    if scheme == "list-download":
        from reconciler.providers.list_download import ListDownloadTenant
        return ListDownloadTenant(url)
    registered = _registered(scheme)
    if registered is not None:
        return registered(url)
    raise TenantUnreachable(
        f"unsupported tenant URL '{redact_url(url)}' (scheme '{scheme}'); "
        f"use {_SQLITE_PREFIX}PATH, e.g. {DEFAULT_TENANT_URL}, postgresql://USER@HOST/DB or "
        "list-download:///PATH.xlsx"
    )


def _postgres(url: str) -> Provider:
    """Imported only when asked for: psycopg is an optional extra."""
    try:
        from reconciler.providers.pg_tenant import PostgresTenant
    except ImportError as error:
        raise TenantUnreachable(
            "a postgresql:// tenant needs psycopg; install it with "
            "pip install 'ipecs-reconciler[postgresql]'") from error
    return PostgresTenant(url)


def _registered(scheme: str) -> Callable[[str], Provider] | None:
    """A third-party provider, registered under its URL scheme in the
    `reconciler.providers` entry-point group (see docs/providers.md). importlib.metadata is
    imported here, not at start-up: it costs more than a small plan's work."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="reconciler.providers"):
        if entry.name == scheme:
            factory: Callable[[str], Provider] = entry.load()
            return factory
    return None


__all__ = ["DEFAULT_TENANT_URL", "Provider", "SqliteTenant", "open_provider"]
