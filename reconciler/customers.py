"""Several customers' config directories in one command: `reconcile plan customers/*`.

A managed-service provider keeps one folder per customer (`customers/acme/tenant.yaml`,
`customers/acme/Main/users.yaml`). Each is validated, planned or applied alone, against
its own tenant, with its own identity check, lock, safety rails and secrets; one
customer's problem is said under its name and stops no other. Models, rules and
start-up are paid once, in one process.

`{dir}` in the tenant URL, the password variable prefix and `--out`/`--plan` is
replaced by each config directory's folder name. Folder names come from pull
requests, so only plain names are taken: letters, digits, `.`, `_` and `-`, not
starting with a dot. Exit codes add up: 1 if any customer failed, else 2 if any has
changes (with --detailed-exitcode), else 0.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.errors import ReconcilerError

PLACEHOLDER = "{dir}"
#: where each customer's embedded tenant is, when no tenant URL is given
DEFAULT_TENANTS = "sqlite:///.reconciler/{dir}.db"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_COLUMNS = ("create", "update", "replace", "delete")


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    config_dir: Path

    def fill(self, value: str | None) -> str | None:
        """`value` with `{dir}` replaced by this customer's folder name."""
        return None if value is None else value.replace(PLACEHOLDER, self.name)

    def fill_prefix(self, prefix: str | None) -> str | None:
        """A password variable prefix: the name as an environment variable may hold it
        (`acme-corp` in `RECONCILER_PW_{dir}_` gives `RECONCILER_PW_acme_corp_`)."""
        if prefix is None:
            return None
        return prefix.replace(PLACEHOLDER, re.sub(r"[^A-Za-z0-9_]", "_", self.name))


@dataclass(frozen=True, slots=True)
class Outcome:
    customer: Customer
    code: int
    #: the plan's counts per label (None: no plan was made)
    counts: Counter[str] | None = None


def customers_of(config_dirs: Sequence[Path]) -> list[Customer]:
    found = []
    for config_dir in config_dirs:
        name = config_dir.resolve().name
        if not _PLAIN_NAME.fullmatch(name):
            raise ReconcilerError(
                f"{config_dir}: a customer's folder is named with letters, digits, '.', "
                "'_' and '-' only, not starting with '.' (its name goes into the tenant URL "
                "and the password variables); rename the folder")
        found.append(Customer(name, config_dir))
    names = Counter(customer.name for customer in found)
    twice = sorted(name for name, count in names.items() if count > 1)
    if twice:
        raise ReconcilerError(f"two config directories are named {', '.join(twice)}: each "
                              "customer's folder name must be its own")
    return found


def templated(value: str | None, what: str, given: bool) -> str | None:
    """A value each customer fills in: a URL or path given for several customers must
    hold {dir}, or every customer would share one tenant or one file."""
    if value is not None and given and PLACEHOLDER not in value:
        raise click.UsageError(f"several config directories need {what} holding {{dir}} "
                               f"(e.g. {_example(what)}); {value!r} would be shared by all")
    return value


def _example(what: str) -> str:
    return {"--tenant": "'postgresql://db/phones?tenant={dir}'",
            "--out": "plans/{dir}.json", "--plan": "plans/{dir}.json"}.get(what, "{dir}")


def exit_code(outcomes: Sequence[Outcome], detailed: bool) -> int:
    if any(outcome.code == 1 for outcome in outcomes):
        return 1
    if detailed and any(outcome.code == 2 for outcome in outcomes):
        return 2
    return 0


def summary(outcomes: Sequence[Outcome], markdown: bool = False) -> str:
    """One line per customer: its counts, and how it went."""
    rows = []
    for outcome in outcomes:
        counts = outcome.counts
        cells = [str(counts[label] + (counts["adopt"] + counts["renumber"]
                                      if label == "update" else 0)) if counts is not None
                 else "-" for label in _COLUMNS]
        status = ("failed" if outcome.code == 1 else
                  "changes" if counts is not None and counts.total() else
                  "no changes" if counts is not None else "ok")
        rows.append((outcome.customer.name, *cells, status))
    head = ("customer", *_COLUMNS, "status")
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(_COLUMNS) + "---|"]
        lines += ["| `" + row[0] + "` | " + " | ".join(row[1:]) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(row[i])) for row in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(str(cell).ljust(widths[i]) if i in (0, len(head) - 1)
                       else str(cell).rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in (head, *rows)]
    return f"{len(outcomes)} customer(s):\n" + "\n".join(f"  {line}" for line in lines) + "\n"
