"""CPU of planning many customers in one command against one command per customer.

Usage: .venv/bin/python benchmarks/many_customers.py [--customers N] [--users U]
           [--rounds R]

It writes N config directories (customers/c000 ...), each a tenant of U users with
the hot desk users and shared lines that go with them (tenant_at_scale's shares),
then times `reconcile plan customers/* --tenant sqlite:///.../{dir}.db --no-cache`
against N separate `reconcile plan customers/cNNN --no-cache` runs, each its own
process with its own start-up. The tenants do not exist (each plan creates every
resource): the same work both ways. CPU is user+sys, children included (wait4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed_targets import ENVIRONMENT  # type: ignore[import-not-found]
from tenant_at_scale import write_tenant  # type: ignore[import-not-found]

RECONCILE = str(Path(sys.executable).parent / "reconcile")


def cpu_of(argv: list[str], cwd: Path) -> float:
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=ENVIRONMENT)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed: {error}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        names = [f"c{number:03d}" for number in range(args.customers)]
        for name in names:
            write_tenant(root / "customers" / name, round(args.users / 0.7), 1)
        tenants = f"sqlite:///{root}/tenants/{{dir}}.db"
        together, apart = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            together.append(cpu_of([RECONCILE, "plan", *(f"customers/{n}" for n in names),
                                    "--tenant", tenants, "--no-cache"], root))
            middle = time.perf_counter()
            apart.append(sum(cpu_of([RECONCILE, "plan", f"customers/{name}", "--tenant",
                                     tenants.replace("{dir}", name), "--no-cache"], root)
                             for name in names))
            print(f"round: one command {middle - started:.1f} s wall, separate "
                  f"{time.perf_counter() - middle:.1f} s wall")
        one, each = statistics.median(together), statistics.median(apart)
        print(f"{args.customers} customers of {args.users} users, {args.rounds} rounds "
              "(medians)")
        print(f"one command           cpu {one:8.2f} s")
        print(f"one command each      cpu {each:8.2f} s")
        print(f"one command / separate  {one / each:.2f}x")


if __name__ == "__main__":
    main()
