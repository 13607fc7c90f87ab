"""Time validate, plan and apply on a generated tenant at the size of the numbering plan.

Usage: .venv/bin/python benchmarks/tenant_at_scale.py [--numbers N] [--sites S]

It writes a config tree with N numbers (70% users, 20% hot desk users, 10% shared
lines, each line with up to 4 members) over S sites, then times each stage. The
machine is noisy: compare figures as ratios within one run, not across runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from reconciler.applying import apply_plan
from reconciler.loading.config_loading import load_config
from reconciler.plans import build_plan
from reconciler.providers import SqliteTenant, open_provider
from reconciler.runs import copy_run, plan_run
from reconciler.runtime.bulk import bulk_phase
from schema.declarations import TenantConfig
from schema.settings import declared_facts

T = TypeVar("T")


def write_tenant(root: Path, numbers: int, sites: int, renamed: int = 0,
                 passwords: bool = False) -> None:
    """`passwords`: every user and hot desk user sets one (RECONCILER_PW_BENCH)."""
    users = int(numbers * 0.7)
    desks = int(numbers * 0.2)
    lines = numbers - users - desks
    root.mkdir(parents=True, exist_ok=True)
    (root / "tenant.yaml").write_text(
        f'tenant: Bench\nplatform_version: "6.0"\nlicences:\n  shared_lines: {lines}\n'
        f"  shared_licensing: true\npackages:\n  Basic: {users + desks}\n"
    )
    secret = ", password: {env: RECONCILER_PW_BENCH}" if passwords else ""
    per_site: dict[int, list[str]] = {s: [] for s in range(sites)}
    for i in range(users):
        name = f"User {i}" + (" (renamed)" if i < renamed else "")
        per_site[i % sites].append(
            f'  - {{extension: "{i:05d}", name: "{name}", package: Basic, '
            f'devices: ["1030", iPECS One Premium], mac: "02{i:010X}", '
            f"email: u{i}@example.com, group_member_type: multi_site{secret}}}\n")
    desk_lines: dict[int, list[str]] = {s: [] for s in range(sites)}
    for i in range(desks):
        desk_lines[i % sites].append(
            f'  - {{extension: "{users + i:05d}", name: "Desk {i}", package: Basic, '
            f"group_member_type: multi_site{secret}}}\n")
    line_lines: dict[int, list[str]] = {s: [] for s in range(sites)}
    for i in range(lines):
        members = ", ".join(f'{{extension: "{(i * 4 + k) % (users + desks):05d}", '
                            f"button: {k + 1}}}" for k in range(4))
        line_lines[i % sites].append(
            f'  - {{number: "{users + desks + i:05d}", members: [{members}]}}\n')
    for site in range(sites):
        folder = root / f"site{site:03d}"
        folder.mkdir(exist_ok=True)
        (folder / "users.yaml").write_text("users:\n" + "".join(per_site[site]))
        (folder / "hot-desk.yaml").write_text("hot_desk_users:\n" + "".join(desk_lines[site]))
        (folder / "lines.yaml").write_text("shared_lines:\n" + "".join(line_lines[site]))


def bulk(action: Callable[..., T], *args: object) -> T:
    """Run as the CLI does: inside a bulk phase (collector paused)."""
    with bulk_phase():
        return action(*args)


def timed(label: str, action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"{label:<48} {elapsed:8.2f} s")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL",
                        help="also time a PostgreSQL tenant, side by side: a server URL, or "
                             "'auto' to start a throwaway server as the tests do")
    args = parser.parse_args()
    if args.numbers > 100_000:
        parser.error("the 2-5 digit numbering plan holds at most 100000 numbers")
    with tempfile.TemporaryDirectory() as tmp, postgres_server(args.postgres) as pg_url:
        root = Path(tmp) / "sites"
        write_tenant(root, args.numbers, args.sites)
        tenant = SqliteTenant(Path(tmp) / "tenant.db")
        print(f"tenant of {args.numbers} numbers over {args.sites} sites")
        _, with_gc = timed("validate, collector running (before)", lambda: load_config(root))
        config, paused = timed("validate (load + rules)", lambda: bulk(load_config, root))
        print(f"{'  collector paused vs running':<48} {with_gc / paused:8.2f} x faster")
        state, _ = timed("read state (empty tenant)", tenant.read_state)
        plan, _ = timed("build plan (all creates)", lambda: bulk(build_plan, config, state))
        timed(f"apply ({len(plan.changes)} creates)",
              lambda: apply_plan(plan, tenant, declared_facts(config.settings)))
        _, load = timed("validate again", lambda: bulk(load_config, root))
        state, read = timed("read state (full tenant)", lambda: bulk(tenant.read_state))
        empty, compare = timed("build plan (no changes)", lambda: bulk(build_plan, config, state))
        assert empty.is_empty
        print(f"{'  sum of the three stages':<48} {load + read + compare:8.2f} s")
        # What `reconcile plan` runs: the same run the CLI calls (runs.plan_run).
        planned, _ = timed("no-change plan, end to end", lambda: plan_run(root, tenant))
        assert planned.plan.is_empty
        if pg_url:
            postgres_side(pg_url, root, tenant)
        write_tenant(root, args.numbers, args.sites, renamed=args.numbers // 100)
        config = load_config(root)
        changed, _ = timed("build plan (1% renamed)", lambda: bulk(build_plan, config, state))
        print(f"{'changes in that plan':<48} {len(changed.changes):8d}")
        if pg_url:
            timed(f"apply ({len(changed.changes)} changes), SQLite",
                  lambda: apply_plan(changed, tenant, declared_facts(config.settings)))
            postgres_apply(pg_url, config)
        tenant.close()


@contextmanager
def postgres_server(given: str | None) -> Iterator[str | None]:
    """The server to time against: none, the one given, or (auto) the tests' own."""
    if given is None or given != "auto":
        yield given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' server
    from tests.postgres_server import running_server, tenant_url

    with running_server() as url:
        yield tenant_url(url, f"bench{uuid.uuid4().hex[:8]}")


def postgres_side(url: str, root: Path, sqlite: SqliteTenant) -> None:
    """The same tenant in PostgreSQL: copied in, read, planned."""
    pg = open_provider(url)
    count, _ = timed("PostgreSQL: copy the tenant in", lambda: copy_run(sqlite, pg))
    print(f"{'  resources copied':<48} {count:8d}")
    timed("PostgreSQL: read state (full tenant)", lambda: bulk(pg.read_state))
    planned, _ = timed("PostgreSQL: no-change plan, end to end", lambda: plan_run(root, pg))
    assert planned.plan.is_empty
    pg.close()


def postgres_apply(url: str, config: TenantConfig) -> None:
    pg = open_provider(url)
    pg.bind(config.settings.tenant)
    plan = bulk(build_plan, config, pg.read_state())
    with pg.lock():
        timed(f"apply ({len(plan.changes)} changes), PostgreSQL",
              lambda: apply_plan(plan, pg, declared_facts(config.settings)))
    pg.close()


if __name__ == "__main__":
    main()
