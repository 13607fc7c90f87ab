"""`reconcile local-tenant ...`: the embedded tenant, a SQLite file standing for the portal.

It stands in twice: for the customer's tenant on a laptop (`set-facts` records what
was bought), and for a tenant out of reach in CI (`fixture` builds one from a tree,
so that a forked pull request, which gets no secrets, can still be planned).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.options import (
    config_dir_argument,
    lock_timeout_option,
    tenant_option,
    tenant_url,
)
from reconciler.providers import open_provider
from reconciler.runs import fixture_run, set_facts_run
from reconciler.runtime.errors import ReconcilerError


@click.group("local-tenant")
def local_tenant_group() -> None:
    """Manage the embedded local tenant (a SQLite file standing for the portal).

    \b
    Example:
      reconcile local-tenant set-facts sites
    """


@local_tenant_group.command("set-facts")
@config_dir_argument
@tenant_option
@lock_timeout_option
def set_facts(config_dir: Path, tenant: str | None, lock_timeout: float) -> int:
    """Record tenant.yaml's platform version, licences and packages in the local tenant,
    as if they had been bought in the portal.

    \b
    Example:
      reconcile local-tenant set-facts sites --tenant sqlite:///.reconciler/tenant.db
    """
    provider = open_provider(tenant_url(tenant))
    try:
        set_facts_run(config_dir, provider, lock_timeout)
    finally:
        provider.close()
    click.echo(f"{provider.description}: facts now match {config_dir}/tenant.yaml.")
    return 0


@local_tenant_group.command("fixture")
@config_dir_argument
@tenant_option
@lock_timeout_option
def fixture(config_dir: Path, tenant: str | None, lock_timeout: float) -> int:
    """Build a fixture: a new local tenant holding what CONFIG_DIR describes, to plan
    against where the real tenant is out of reach (a forked pull request gets no
    secrets). Passwords are random placeholders; no variable is read. A plan against
    a fixture is not a plan of the real tenant: label it so wherever it is shown.

    Below, the base branch is checked out in ../base and the pull request in sites.

    \b
    Example:
      reconcile local-tenant fixture ../base/sites --tenant sqlite:///fixture.db
      reconcile plan sites --tenant sqlite:///fixture.db
    """
    url = tenant_url(tenant)
    if not url.startswith("sqlite:"):
        raise ReconcilerError("a fixture is built in a local file (--tenant "
                              "sqlite:///PATH.db), never in a shared tenant where it could "
                              "be taken for the real one")
    provider = open_provider(url)
    try:
        count = fixture_run(config_dir, provider, lock_timeout)
    finally:
        provider.close()
    click.echo(f"{provider.description}: a fixture tenant holding {count} resource(s) as "
               f"{config_dir} describes them (placeholder passwords); it is not the real "
               "tenant.")
    return 0
