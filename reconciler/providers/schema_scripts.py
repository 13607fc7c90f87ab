"""The SQL scripts that build and migrate a tenant's tables, found by their names.

`sqlite_schema_<N>.sql` and `pg_schema_<N>.sql` take a tenant of version N-1 (or the
script before it) to version N; a tenant is built from nothing by running them all
in order. The latest version is the highest script: a new version is a new file.
"""

from __future__ import annotations

import re
from importlib import resources

_PACKAGE = "reconciler.providers"


def versioned_scripts(prefix: str) -> dict[int, str]:
    """{version: script name} of every `<prefix><N>.sql` shipped with the package."""
    pattern = re.compile(re.escape(prefix) + r"([0-9]+)\.sql")
    found = {}
    for entry in resources.files(_PACKAGE).iterdir():
        matched = pattern.fullmatch(entry.name)
        if matched:
            found[int(matched.group(1))] = entry.name
    return dict(sorted(found.items()))


def read_script(name: str) -> bytes:
    return resources.files(_PACKAGE).joinpath(name).read_bytes()
