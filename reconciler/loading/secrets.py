"""Resolving secret references ({env: VAR}) at apply time, and only then.

A plan names where a secret will come from and never reads it, so planning
works on a machine with nothing exported. Apply resolves every reference it
needs before its first write, so a missing variable stops it cleanly.

Only variables whose names start with the allowed prefix (RECONCILER_PW_ by
default) may become passwords. The prefix is set where apply runs (the
RECONCILER_SECRET_PREFIX variable or --secret-prefix), never in the config a
pull request edits, so a config cannot turn CI's GITHUB_TOKEN into a portal
password. Messages name variables, never a value or its length.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from reconciler.runtime.errors import SecretError
from schema.fields import DEFAULT_SECRET_PREFIX, SecretRef, password_length_problem

PREFIX_VARIABLE = "RECONCILER_SECRET_PREFIX"


def allowed_prefix(given: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The prefix a password variable must have: given, else RECONCILER_SECRET_PREFIX,
    else RECONCILER_PW_."""
    environ = os.environ if environ is None else environ
    prefix = given if given is not None else environ.get(PREFIX_VARIABLE, DEFAULT_SECRET_PREFIX)
    if not prefix.strip():
        raise SecretError(f"the secret prefix is empty (--secret-prefix or {PREFIX_VARIABLE}); "
                          "a prefix keeps a config from reading any variable, name one such as "
                          f"{DEFAULT_SECRET_PREFIX}")
    return prefix


def resolve(refs: Iterable[SecretRef], environ: Mapping[str, str] | None = None,
            prefix: str | None = None) -> dict[SecretRef, str]:
    """Read every referenced variable; report all that are missing or invalid at once."""
    environ = os.environ if environ is None else environ
    prefix = allowed_prefix(prefix, environ)
    values: dict[SecretRef, str] = {}
    problems: list[str] = []
    for ref in sorted(set(refs), key=lambda r: r.env):
        value = environ.get(ref.env)
        if not ref.env.startswith(prefix):
            problems.append(f"{ref.env} does not start with {prefix}; only such variables may "
                            "hold passwords")
        elif value is None:
            problems.append(f"environment variable {ref.env} is not set; export it before apply")
        elif not _is_utf8(value):
            problems.append(f"the password in {ref.env} is not valid UTF-8 text; set it again")
        elif (why := password_length_problem(len(value))) is not None:
            problems.append(f"the password in {ref.env} {why}")
        else:
            values[ref] = value
    if problems:
        raise SecretError("; ".join(problems))
    return values


def _is_utf8(value: str) -> bool:
    """Environment bytes that are not UTF-8 arrive as lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
