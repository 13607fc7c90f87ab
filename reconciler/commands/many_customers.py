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

import contextlib
import io
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.commands.options import TENANT_VARIABLE
from reconciler.commands.reporting import PLANNED, report
from reconciler.loading.secrets import PREFIX_VARIABLE
from reconciler.runtime import stopping
from reconciler.runtime.errors import ApplyStopped, ReconcilerError

PLACEHOLDER = "{dir}"
#: where each customer's embedded tenant is, when no tenant URL is given
DEFAULT_TENANTS = "sqlite:///.reconciler/{dir}.db"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_COLUMNS = ("create", "update", "replace", "delete")
#: GitHub's limit for one comment: the table, then as many folded plans as fit
COMMENT_LIMIT = 65_535


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


def for_one(config_dir: Path, value: str | None) -> str | None:
    """A value for one config directory: {dir} filled in, where it is written (so one
    template serves a command for all customers and one for each, as a CI matrix
    runs it)."""
    if value is None or PLACEHOLDER not in value:
        return value
    return customers_of([config_dir])[0].fill(value)


def prefix_for_one(config_dir: Path, prefix: str | None) -> str | None:
    prefix = prefix if prefix is not None else os.environ.get(PREFIX_VARIABLE)
    if prefix is None or PLACEHOLDER not in prefix:
        return prefix
    return customers_of([config_dir])[0].fill_prefix(prefix)


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


def each_customer(command: click.Command, config_dirs: Sequence[Path], detailed: bool,
                  markdown: bool = False) -> int:
    """`command` for each customer's config directory alone, its values with {dir}
    filled in; each one's error said (`report`) under its name; then one summary. In
    markdown the summary comes first and each plan is folded under it, within one
    comment's limit. The command leaves what it planned in its context's meta, under
    `PLANNED`."""
    context = click.get_current_context()
    params = _checked_params(dict(context.params))
    outcomes, folded = [], []
    for customer in customers_of(config_dirs):
        # The command, given one directory, fills {dir} itself (`for_one`).
        values = {**params, "config_dirs": (customer.config_dir,), "changed_since": None}
        if not markdown:
            click.echo(f"== customer {customer.name} ({customer.config_dir}) ==")
        context.meta.pop(PLANNED, None)
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured) if markdown else \
                    contextlib.nullcontext():
                code = context.invoke(command, **values)
        except (stopping.Terminated, ApplyStopped):
            raise  # a stop asked for stops every customer
        except (click.ClickException, ReconcilerError) as error:
            click.echo(f"customer {customer.name}:", err=True)
            report(error)
            code = 1
        planned = context.meta.get(PLANNED)
        outcome = Outcome(customer, code if isinstance(code, int) else 0,
                          planned.plan.counts() if planned else None)
        outcomes.append(outcome)
        folded.append((outcome, captured.getvalue()))
        if not markdown:
            click.echo("")
    if markdown:
        click.echo(_comment(outcomes, folded), nl=False)
    else:
        click.echo(summary(outcomes), nl=False)
    return exit_code(outcomes, detailed)


def _checked_params(params: dict[str, object]) -> dict[str, object]:
    """The values every customer fills in, checked to hold {dir} where they must; with
    no tenant given, each customer's embedded one."""
    if "tenant" in params:
        given = params["tenant"] if params["tenant"] is not None else os.environ.get(
            TENANT_VARIABLE)
        params["tenant"] = templated(str(given), "--tenant", True) if given is not None \
            else DEFAULT_TENANTS
    for option, name in (("out_file", "--out"), ("plan_file", "--plan")):
        if params.get(option) is not None:
            templated(str(params[option]), name, True)
    return params


def _comment(outcomes: Sequence[Outcome], folded: Sequence[tuple[Outcome, str]]) -> str:
    """The table, then each customer's plan folded: those that fit in one comment, the
    longest left out first, each named as left out (the CI log has them all)."""
    head = (f"### iPECS Cloud plans for {len(outcomes)} customer(s)\n\n"
            + summary(outcomes, markdown=True) + "\n")
    blocks = {outcome.customer.name: (f"<details><summary>Customer `{outcome.customer.name}`"
                                      f"</summary>\n\n{text.rstrip()}\n\n</details>\n")
              for outcome, text in folded if text.strip()}
    left_out: list[str] = []
    while blocks and len(head) + sum(map(len, blocks.values())) + 200 * (
            len(left_out) + 1) > COMMENT_LIMIT:
        longest = max(blocks, key=lambda name: len(blocks[name]))
        del blocks[longest]
        left_out.append(longest)
    notes = [f"> Customer `{name}`: its plan is too long for this comment; see the CI log "
             "or its saved plan.\n" for name in sorted(left_out)]
    return head + "".join(blocks.values()) + ("\n" + "".join(notes) if notes else "")


def only_changed(config_dirs: tuple[Path, ...], changed_since: str | None
                 ) -> tuple[Path, ...] | None:
    """The config directories changed since the ref; None (said) when none did."""
    if changed_since is None:
        return config_dirs
    from reconciler.commands.changed_customers import changed

    kept = tuple(changed(config_dirs or (Path("sites"),), changed_since))
    if not kept:
        click.echo(f"no config directory changed since {changed_since}: nothing to do")
        return None
    return kept


def one_document_each(output_format: str, allowed: tuple[str, ...]) -> None:
    if output_format not in allowed:
        raise click.UsageError(f"--format {output_format} writes one document per customer; "
                               "with several config directories use "
                               f"{', '.join(allowed)}, or one command per customer")

