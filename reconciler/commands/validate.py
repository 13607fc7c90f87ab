"""`reconcile validate`: every rule, no tenant needed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from reconciler.commands import many_customers
from reconciler.commands.options import (
    cache_options,
    changed_since_option,
    config_dirs_argument,
    secret_prefix_option,
    site_filter_options,
)
from reconciler.commands.reporting import (
    EXIT_ERROR,
    EXIT_OK,
    note_rules_ran_on_part,
    report_cache,
)
from reconciler.loading.site_file_cache import open_cache
from reconciler.loading.speedups import Speedups
from reconciler.output.problem_formats import FORMATS as PROBLEM_FORMATS
from reconciler.output.problem_formats import Findings
from reconciler.plans.site_filtering import SiteFilter
from reconciler.runs import load_for_sites
from reconciler.runtime.bulk import bulk_phase
from reconciler.runtime.errors import ConfigError
from schema.printable import printable


@click.command()
@config_dirs_argument
@changed_since_option
@site_filter_options
@secret_prefix_option
@click.option("--format", "output_format", type=click.Choice(tuple(PROBLEM_FORMATS)),
              default="text", show_default=True, envvar="RECONCILER_VALIDATE_FORMAT",
              help="text: `path:line:col: message [rule]` lines; github: those plus "
                   "annotations on the diff lines; json; gitlab-codequality: a Code Quality "
                   "report; sarif: a SARIF 2.1.0 log (GitHub code scanning).")
@cache_options
def validate(config_dirs: tuple[Path, ...], changed_since: str | None,
             sites: tuple[str, ...], exclude_sites: tuple[str, ...],
             secret_prefix: str | None, output_format: str, no_cache: bool,
             verbose: bool) -> int:
    """Check CONFIG_DIR (default ./sites) against every rule; no tenant needed.
    Several CONFIG_DIRs (customers/*) are checked one customer at a time.

    \b
    Example:
      reconcile validate sites --format github
      reconcile validate customers/*
    """
    kept = many_customers.only_changed(config_dirs, changed_since)
    if kept is None:
        return EXIT_OK
    config_dirs = kept
    if len(config_dirs) > 1:
        many_customers.one_document_each(output_format, ("text", "github"))
        return many_customers.each_customer(validate, config_dirs, detailed=False)
    config_dir = config_dirs[0] if config_dirs else Path("sites")
    secret_prefix = many_customers.prefix_for_one(config_dir, secret_prefix)
    cache, note = open_cache(config_dir, enabled=not no_cache)
    try:
        with bulk_phase():
            config, set_aside = load_for_sites(config_dir, secret_prefix,
                                               SiteFilter(sites, exclude_sites),
                                               speedups=Speedups(cache))
    except ConfigError as error:
        report_cache(cache, note, verbose)
        if output_format == "text":
            raise
        warnings = error.config.warnings if error.config is not None else []
        _findings(output_format, Findings(error.problems, warnings, "", 0, {}))
        note_rules_ran_on_part(error)
        click.echo(f"error: {error}", err=True)
        return EXIT_ERROR
    report_cache(cache, note, verbose)
    others = " (other sites have problems)" if set_aside else ""
    lines = [f"{config_dir}: valid{' for the chosen sites' if set_aside else ''} "
             f"({len(config.declared)} resources in {len(config.sites())} site(s)){others}."]
    per_site = Counter(d.site for d in config.declared)
    for site in config.sites():
        files = config.files_by_site.get(site, 0)
        lines.append(f"  {printable(site)}: {files} file(s), {per_site[site]} resource(s)")
    return _findings(output_format, Findings([], config.warnings, "\n".join(lines) + "\n",
                                             len(config.declared), dict(per_site)))


def _findings(output_format: str, findings: Findings) -> int:
    out, err = PROBLEM_FORMATS[output_format](findings)
    if err:
        click.echo(err, err=True, nl=False)
    if out:
        click.echo(out, nl=False)
    return EXIT_ERROR if findings.problems else EXIT_OK
