"""Resolving secret references ({env: VAR}) at apply time, and only then.

A plan names where a secret will come from and never reads it, so planning
works on a machine with nothing exported. Apply resolves every reference it
needs before its first write, so a missing variable stops it cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from reconciler.errors import SecretError
from schema.fields import SecretRef

MIN_PASSWORD, MAX_PASSWORD = 8, 15


def resolve(refs: Iterable[SecretRef], environ: Mapping[str, str] | None = None
            ) -> dict[SecretRef, str]:
    """Read every referenced variable; report all that are missing or invalid at once."""
    environ = os.environ if environ is None else environ
    values: dict[SecretRef, str] = {}
    problems: list[str] = []
    for ref in sorted(set(refs), key=lambda r: r.env):
        value = environ.get(ref.env)
        if value is None:
            problems.append(f"environment variable {ref.env} is not set; export it before apply")
        elif not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
            # The length is safe to say; the value never is.
            problems.append(
                f"the password in {ref.env} is {len(value)} characters; the portal accepts "
                f"{MIN_PASSWORD} to {MAX_PASSWORD}"
            )
        else:
            values[ref] = value
    if problems:
        raise SecretError("; ".join(problems))
    return values
