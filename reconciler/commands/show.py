"""`reconcile show`: a saved plan printed in any format, exactly as it was made."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.reporting import EXIT_OK, FORMATS, colour
from reconciler.output.saved_plans import read_plan_file
from reconciler.rendering import RENDERERS, PlanView


@click.command()
@click.argument("plan_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text",
              show_default=True, help="How to print the plan.")
def show(plan_file: Path, output_format: str) -> int:
    """Print a saved plan (from `plan --out`) in any format, as it was made: so a CI
    job can post exactly the plan file that `apply --plan` will apply.

    \b
    Example:
      reconcile show plan.json --format markdown > comment.md
    """
    document = read_plan_file(plan_file)
    view = PlanView(document, f"(saved plan {plan_file})", colour())
    click.echo(RENDERERS[output_format](view), nl=False)
    return EXIT_OK
