"""`reconcile plan`: the changes that would make the tenant match the config."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands import many_customers
from reconciler.commands.options import (
    UPLOAD_FORMAT,
    cache_options,
    changed_since_option,
    config_dirs_argument,
    secret_prefix_option,
    site_filter_options,
    tenant_option,
    tenant_url,
)
from reconciler.commands.plan_outputs import emit, outputs_of
from reconciler.commands.reporting import (
    EXIT_CHANGES,
    EXIT_OK,
    FORMATS,
    PLANNED,
    report_cache,
    warn,
)
from reconciler.loading.site_file_cache import open_cache
from reconciler.loading.speedups import Speedups
from reconciler.plans.serializing import plan_document
from reconciler.plans.site_filtering import SiteFilter
from reconciler.providers import open_provider
from reconciler.runs import plan_run


@click.command()
@config_dirs_argument
@changed_since_option
@tenant_option
@site_filter_options
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are, 1 on error.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Also save the plan as JSON, for `apply --plan` (with --format "
                   "list-upload: where to write the upload file).")
@click.option("--format", "output_format", type=click.Choice((*FORMATS, UPLOAD_FORMAT)),
              default="text", show_default=True,
              help="How to print the plan; list-upload writes the List Download upload "
                   "file to --out.")
@click.option("--summary-file", "summary_file", metavar="FILE",
              help="Also append the plan as markdown to this file, a CI job's summary page "
                   "(default: $GITHUB_STEP_SUMMARY when set; an empty value turns it off). "
                   "Cut to fit GitHub's 1 MiB limit.")
@secret_prefix_option
@cache_options
def plan(config_dirs: tuple[Path, ...], changed_since: str | None, tenant: str | None,
         sites: tuple[str, ...],
         exclude_sites: tuple[str, ...], detailed_exitcode: bool, out_file: Path | None,
         output_format: str, summary_file: str | None, secret_prefix: str | None,
         no_cache: bool, verbose: bool) -> int:
    """Show the changes that would make the tenant match CONFIG_DIR; writes nothing to it.
    Several CONFIG_DIRs (customers/*) are planned each against its own tenant, with
    {dir} in --tenant and --out (docs/commands.md, "Many customers").

    \b
    Example:
      reconcile plan --out plan.json --detailed-exitcode
      reconcile plan --tenant 'postgresql://ci@db/phones' --format markdown
      reconcile plan customers/* --tenant 'sqlite:///.reconciler/{dir}.db'
    """
    kept = many_customers.only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        many_customers.one_document_each(output_format, ("text", "markdown", "runbook"))
        return many_customers.each_customer(plan, config_dirs, detailed=detailed_exitcode,
                                            markdown=output_format == "markdown")
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    tenant = many_customers.for_one(config_dir, tenant_url(tenant))
    secret_prefix = many_customers.prefix_for_one(config_dir, secret_prefix)
    if out_file is not None:
        out_file = Path(str(many_customers.for_one(config_dir, str(out_file))))
    outputs = outputs_of(output_format, out_file, summary_file)
    provider = open_provider(tenant_url(tenant))
    cache, note = open_cache(config_dir, enabled=not no_cache)
    try:
        try:
            planned = plan_run(config_dir, provider, SiteFilter(sites, exclude_sites),
                               secret_prefix, Speedups(cache))
        finally:
            report_cache(cache, note, verbose)
        warn(planned.config)
        document = plan_document(planned.plan, planned.config.digest, planned.checksum)
        emit(outputs, planned, provider, document, secret_prefix)
        click.get_current_context().meta[PLANNED] = planned
    finally:
        provider.close()
    if detailed_exitcode and not planned.plan.is_empty:
        return EXIT_CHANGES
    return EXIT_OK
