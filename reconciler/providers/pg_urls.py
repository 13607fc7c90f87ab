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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reconciler.redaction import redact_url

SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class PgUrl:
    conninfo: str  # for libpq: the URL without our own `tenant` parameter
    tenant: str | None  # `?tenant=`, if given
    shown: str  # safe to print


def parse(url: str) -> PgUrl:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    tenant = next((value for name, value in query if name == "tenant"), None)
    kept = urlencode([(name, value) for name, value in query if name != "tenant"])
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, kept, parts.fragment))
    return PgUrl(conninfo, tenant or None, redact_url(url))
