"""Where a plan goes, as a list (octoDNS's `plan_outputs`): the options resolved once
into outputs, each a format and a destination, then emitted in order.

    --format text|markdown|...       the plan in that format, on stdout
    --out FILE                       the saved plan (JSON), for `apply --plan`
    --format list-upload --out FILE  the List Download upload file, in place of both
    --summary-file FILE (or $GITHUB_STEP_SUMMARY)
                                     the plan as markdown, appended, cut to fit

The `plan` command is then: parse, run, emit each output, exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.commands.options import UPLOAD_FORMAT
from reconciler.commands.reporting import render
from reconciler.output.job_summaries import append_summary, summary_path
from reconciler.output.saved_plans import write_plan_file
from reconciler.providers import Provider
from reconciler.runs import Planned

#: The saved plan: the plan document as JSON, what `apply --plan` and `show` read.
SAVED_PLAN = "saved-plan"
#: The plan as markdown appended to a CI job's summary page.
JOB_SUMMARY = "job-summary"


@dataclass(frozen=True, slots=True)
class Output:
    """One place the plan goes: a format (a renderer's name, or one of the above) and
    where (None: stdout)."""

    format: str
    destination: Path | None = None


def outputs_of(output_format: str, out_file: Path | None, summary_file: str | None
               ) -> list[Output]:
    """The command's options as outputs, in the order they are written: the files
    first, then stdout, then the job summary."""
    outputs: list[Output] = []
    if output_format == UPLOAD_FORMAT:
        outputs.append(Output(UPLOAD_FORMAT, out_file))
    else:
        if out_file is not None:
            outputs.append(Output(SAVED_PLAN, out_file))
        outputs.append(Output(output_format))
    summary = summary_path(summary_file)
    if summary is not None:
        outputs.append(Output(JOB_SUMMARY, summary))
    return outputs


def emit(outputs: list[Output], planned: Planned, provider: Provider,
         document: dict[str, Any], secret_prefix: str | None) -> None:
    for output in outputs:
        if output.format == UPLOAD_FORMAT:
            from reconciler.commands.list_download import upload_file

            upload_file(planned, provider, output.destination, secret_prefix)
        elif output.format == SAVED_PLAN:
            assert output.destination is not None
            write_plan_file(output.destination, document)
        elif output.format == JOB_SUMMARY:
            assert output.destination is not None
            markdown = render(planned, provider, "markdown", document)
            if append_summary(output.destination, markdown, len(planned.plan.changes)):
                click.echo(f"note: the plan was cut to fit the job summary "
                           f"{output.destination}", err=True)
        else:
            click.echo(render(planned, provider, output.format, document), nl=False)
