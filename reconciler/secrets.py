"""Resolving secret references ({env: VAR}) at apply time, and only then.

A plan names where a secret will come from and never reads it, so planning
works on a machine with nothing exported. Apply resolves every reference it
needs before its first write, so a missing variable stops it cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from reconciler.errors import SecretError
from schema.fields import SecretRef, password_length_problem


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
        elif (why := password_length_problem(len(value))) is not None:
            problems.append(f"the password in {ref.env} {why}")
        else:
            values[ref] = value
    if problems:
        raise SecretError("; ".join(problems))
    return values
