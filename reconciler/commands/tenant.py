"""`reconcile tenant ...`: look after the tenant itself (whose it is, its schema, its health)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.commands.options import (
    config_dir_argument,
    lock_timeout_option,
    tenant_option,
    tenant_url,
)
from reconciler.providers import open_provider
from reconciler.providers.base import Claimable
from reconciler.runs import copy_run, holdings, migrate_run
from reconciler.runtime.errors import ReconcilerError, TenantError


@click.group("tenant")
def tenant_group() -> None:
    """Look after the tenant itself: whose it is, its schema and its integrity.

    \b
    Example:
      reconcile tenant show --tenant 'postgresql://ci@db/phones?tenant=acme'
    """


@tenant_group.command("show")
@tenant_option
def show(tenant: str | None) -> int:
    """Say whose the tenant is, its schema, any unfinished apply and who holds its lock.

    \b
    Example:
      reconcile tenant show
    """
    provider = open_provider(tenant_url(tenant))
    try:
        if not provider.exists():
            click.echo(f"{provider.description}: no tenant yet (the first apply creates it).")
            return 0
        state = provider.read_state()
        identity = state.identity
        lines = [f"tenant:   {json.dumps(identity.name) if identity else '(not recorded)'}",
                 f"at:       {provider.description}"]
        if state.visibility is not None:
            lines.append("view:     read only, showing "
                         + ", ".join(kind.value for kind in state.visibility.fields))
            click.echo("\n".join([*lines, f"holds:    {len(state.resources)} resources"]))
            return 0
        if identity is not None:
            lines += [f"id:       {identity.tenant_id}", f"created:  {identity.created_at}"]
        lines.append(f"schema:   {provider.schema_version()} "
                     f"(this tool: {provider.latest_schema()})")
        lines.append(f"holds:    {len(state.resources)} resources, "
                     f"{len(state.managed)} managed by this tool")
        if state.unfinished is not None:
            lines.append(f"journal:  {state.unfinished.describe()}")
        holder = provider.lock_holder()
        lines.append(f"lock:     {'held by ' + holder.describe() if holder else 'free'}")
        click.echo("\n".join(lines))
    finally:
        provider.close()
    return 0


@tenant_group.command("rename")
@click.argument("old")
@click.argument("new")
@tenant_option
@lock_timeout_option
def rename(old: str, new: str, tenant: str | None, lock_timeout: float) -> int:
    """Record that the tenant named OLD is now called NEW (as tenant.yaml's `tenant:`).

    A plan refuses a config whose `tenant:` differs from the name the tenant
    holds; this is the one way to change that name, and it needs the old one.

    \b
    Example:
      reconcile tenant rename "Bobs Bakery" "Bob's Bakery Ltd"
    """
    if not new.strip():
        raise click.UsageError("the new name is empty")
    provider = open_provider(tenant_url(tenant))
    try:
        with provider.lock(lock_timeout):
            provider.rename(old, new)
    finally:
        provider.close()
    click.echo(f"{provider.description}: renamed {json.dumps(old)} to {json.dumps(new)}.")
    return 0


@tenant_group.command("claim")
@click.argument("name")
@tenant_option
@lock_timeout_option
def claim(name: str, tenant: str | None, lock_timeout: float) -> int:
    """Record, once, that a tenant made before tenants recorded their owner is NAME's
    (tenant.yaml's `tenant:`), migrating its schema in the same transaction.

    Until then plan and apply refuse it, naming what it holds, so that after an
    upgrade it is not taken by whichever config comes first. Refused if the tenant
    already records an owner (to change the name: reconcile tenant rename).

    \b
    Example:
      reconcile tenant claim "Bobs Bakery" --tenant sqlite:///.reconciler/tenant.db
    """
    if not name.strip():
        raise click.UsageError("the name is empty")
    provider = open_provider(tenant_url(tenant))
    try:
        if not isinstance(provider, Claimable):
            raise TenantError(f"tenant {provider.description} always records whose it is; "
                              "see reconcile tenant show (to change the name: reconcile "
                              "tenant rename)")
        with provider.lock(lock_timeout):
            migrated = provider.claim(name)
        held = holdings(provider.read_state())
    finally:
        provider.close()
    done = f"; {migrated}" if migrated else ""
    click.echo(f"{provider.description}: recorded as {json.dumps(name)}'s tenant{done}; it "
               f"holds {held}.")
    return 0


@tenant_group.command("grant")
@click.option("--reader", metavar="ROLE", help="The role plans run as (pull requests): it "
              "reads this tenant as a plan needs, never its password hashes.")
@click.option("--writer", metavar="ROLE", help="The role applies run as: it writes this "
              "tenant, and its lock.")
@tenant_option
def grant(reader: str | None, writer: str | None, tenant: str | None) -> int:
    """Give a reader role and a writer role one PostgreSQL tenant each: neither reaches
    any other tenant's schema, and the reader cannot read password hashes.

    Run as the role that created the tenant (or an administrator); the roles must
    exist (CREATE ROLE ... LOGIN). Migrations stay with the tenant's owner.

    \b
    Example:
      reconcile tenant grant --reader phones_acme_plan --writer phones_acme_apply \\
        --tenant 'postgresql://admin@db/phones?tenant=acme'
    """
    if reader is None and writer is None:
        raise click.UsageError("name a --reader, a --writer, or both")
    provider = open_provider(tenant_url(tenant))
    try:
        if not hasattr(provider, "grant"):
            raise TenantError(f"{provider.description}: roles are PostgreSQL's; this tenant "
                              "has none to grant")
        ran = provider.grant(reader, writer)
    finally:
        provider.close()
    click.echo("\n".join(f"{statement};" for statement in ran))
    click.echo(f"{provider.description}: granted"
               + (f" reading to {reader}" if reader else "")
               + (" and" if reader and writer else "")
               + (f" writing to {writer}" if writer else "") + ".")
    return 0


@tenant_group.command("check")
@tenant_option
def check(tenant: str | None) -> int:
    """Check the tenant's own bookkeeping: storage, references, counters, identities.

    \b
    Example:
      reconcile tenant check --tenant sqlite:///.reconciler/tenant.db
    """
    provider = open_provider(tenant_url(tenant))
    try:
        if not provider.exists():
            raise TenantError(f"tenant {provider.description} does not exist yet")
        if provider.pending_migration():
            raise TenantError(
                f"tenant {provider.description} has schema {provider.schema_version()} as an "
                f"older version of this tool wrote it (this tool: {provider.latest_schema()}): "
                "its bookkeeping is checked after migrating. Run: reconcile tenant migrate (a "
                "tenant that does not record whose it is: reconcile tenant claim NAME, which "
                "migrates too)")
        problems = provider.check_integrity()
    finally:
        provider.close()
    if problems:
        for problem in problems:
            click.echo(f"{provider.description}: {problem}", err=True)
        raise ReconcilerError(f"{len(problems)} integrity problem(s) in the tenant")
    click.echo(f"{provider.description}: intact.")
    return 0


@tenant_group.command("migrate")
@config_dir_argument
@tenant_option
@lock_timeout_option
@click.option("--dry-run", is_flag=True, help="Print what would run; change nothing.")
def migrate(config_dir: Path, tenant: str | None, lock_timeout: float, dry_run: bool) -> int:
    """Bring a tenant made by an older version up to this version's schema, in one
    transaction. (apply does this too, before its first step.)

    A tenant older than schema 4 did not record whose it is; migrating does not
    decide it (plan and apply refuse such a tenant until `reconcile tenant claim
    NAME` says whose it is; claim migrates too).

    \b
    Example:
      reconcile tenant migrate sites --dry-run
    """
    provider = open_provider(tenant_url(tenant))
    try:
        version, pending = provider.schema_version(), provider.pending_migration()
        if not pending:
            state = "no tenant yet" if version is None else f"already at schema {version}"
            click.echo(f"{provider.description}: {state}; nothing to migrate.")
            return 0
        if dry_run:
            click.echo(f"-- {provider.description}: schema {version} -> "
                       f"{provider.latest_schema()}, in one transaction:")
            click.echo("\n".join(pending))
            return 0
        done = migrate_run(config_dir, provider, lock_timeout)
    finally:
        provider.close()
    click.echo(f"{provider.description}: {done}.")
    return 0


@tenant_group.command("copy")
@click.argument("from_url", metavar="FROM_URL")
@click.argument("to_url", metavar="TO_URL")
@lock_timeout_option
def copy(from_url: str, to_url: str, lock_timeout: float) -> int:
    """Copy a tenant between any two providers, e.g. the local file into PostgreSQL when
    a team moves its applies to CI, then check the copy reads back as the original.

    The copy keeps everything: identities, whose the tenant is, password hashes, an
    unfinished apply's journal. TO_URL must hold no tenant yet.

    \b
    Example:
      reconcile tenant copy sqlite:///.reconciler/tenant.db 'postgresql://ci@db/phones?tenant=acme'
    """
    source, target = open_provider(from_url), open_provider(to_url)
    try:
        count = copy_run(source, target, lock_timeout)
    finally:
        source.close()
        target.close()
    click.echo(f"copied {count} resources from {source.description} to {target.description}; "
               "the copy reads back as the original.")
    return 0
