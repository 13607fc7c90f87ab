"""Every speed target of the project in one run, each as a ratio measured side by side.

Usage: .venv/bin/python benchmarks/speed_targets.py [--numbers N] [--sites S] [--rounds R]

The floor is what naively reading the input costs: a bare
`yaml.load(..., Loader=yaml.CSafeLoader)` of every site file, in a fresh
interpreter. Each command runs as users run it (`reconcile ...`, a process of its
own), its wall time and peak memory (ru_maxrss) taken by the parent. Floor and
command alternate for R rounds and the medians are compared: the machine is noisy,
ratios within one run are what to read.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tenant_at_scale import write_tenant  # type: ignore[import-not-found]

RECONCILE = str(Path(sys.executable).parent / "reconcile")
FLOOR = """
import sys, time, yaml
from pathlib import Path
files = sorted(p for p in Path(sys.argv[1]).rglob("*.yaml") if p.name != "tenant.yaml")
start = time.perf_counter()
for path in files:
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
print(time.perf_counter() - start)
"""


@dataclass
class Run:
    seconds: float
    peak_mb: float
    code: int


def command(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """One `reconcile` process: wall time, and its own peak RSS from wait4."""
    start = time.perf_counter()
    process = subprocess.Popen([RECONCILE, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"reconcile {' '.join(args)} failed ({code}): "
                         f"{process.stderr.read().decode() if process.stderr else ''}")
    return Run(seconds, usage.ru_maxrss / 1024, code)


def floor(sites: Path) -> float:
    out = subprocess.run([sys.executable, "-c", FLOOR, str(sites)], capture_output=True,
                         text=True, check=True)
    return float(out.stdout)


def median_pair(rounds: int, first: Callable[[], float], second: Callable[[], float]
                ) -> tuple[float, float]:
    a, b = [], []
    for _ in range(rounds):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def line(label: str, value: float, unit: str, target: str = "") -> None:
    print(f"{label:<58} {value:9.2f} {unit:<3} {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sites = work / "sites"
        write_tenant(sites, args.numbers, args.sites)
        tenant = ["--tenant", f"sqlite:///{work / 'tenant.db'}"]
        print(f"{args.numbers} numbers over {args.sites} sites, {args.rounds} rounds")
        created = command("apply", str(sites), "--auto-approve", *tenant, cwd=work)
        line("apply, every resource created", created.seconds, "s")
        line("  peak memory", created.peak_mb, "MB", "(target < 1024)")
        plan = command("plan", str(sites), *tenant, cwd=work)

        def cold() -> float:
            shutil.rmtree(work / ".reconciler" / "cache", ignore_errors=True)
            return command("plan", str(sites), *tenant, cwd=work).seconds

        base, cold_plan = median_pair(args.rounds, lambda: floor(sites), cold)
        line("floor: bare CSafeLoader load of the site files", base, "s")
        line("cold no-change plan", cold_plan, "s")
        line("  cold plan / floor", cold_plan / base, "x", "(target <= 1.0)")
        line("  peak memory", plan.peak_mb, "MB", "(target < 1024)")
        write_tenant(sites, args.numbers, args.sites, renamed=args.numbers // 100)
        changed = statistics.median(cold() for _ in range(args.rounds))
        line("cold plan, 1% of users renamed", changed, "s")
        line("  1% change / no-change plan", changed / cold_plan, "x", "(target <= 1.1)")


if __name__ == "__main__":
    main()
