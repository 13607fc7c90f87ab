"""PostgreSQL tenant URLs: what libpq gets, which tenant is meant, what may be printed.

    postgresql://USER@HOST:PORT/DB                 the password from PGPASSWORD or ~/.pgpass
    postgresql://USER@HOST/DB?sslmode=require      any libpq parameter passes through
    postgresql:///DB?host=/var/run/postgresql      a Unix socket
    postgresql://?service=ci                       a service from pg_service.conf
    ...?tenant=acme                                which tenant of the database: required,
                                                   and the job's choice (never the config's
                                                   `tenant:`, which a pull request can edit)

A password written into the URL works (libpq reads it) but is never printed:
every message shows the URL with the password masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus

from reconciler.runtime.redaction import redact_url

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class PgUrl:
    conninfo: str  # for libpq: the URL without our own `tenant` parameter
    tenant: str | None  # `?tenant=`, if given
    shown: str  # safe to print


def parse(url: str) -> PgUrl:
    """Our `tenant` parameter taken out, every other byte left as written: urllib's
    split and join would turn `postgresql:///DB` into `postgresql:/DB` and
    `postgresql://?service=ci` into `postgresql:?service=ci`, which libpq refuses."""
    base, _, rest = url.partition("?")
    query, hash_mark, fragment = rest.partition("#")
    tenant: str | None = None
    kept = []
    for piece in filter(None, query.split("&")):
        name, _, value = piece.partition("=")
        if unquote_plus(name) != "tenant":
            kept.append(piece)
        elif tenant is None:
            tenant = unquote_plus(value)
    conninfo = base + ("?" + "&".join(kept) if kept else "") + hash_mark + fragment
    return PgUrl(conninfo, tenant or None, redact_url(url))
