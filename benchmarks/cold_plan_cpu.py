"""CPU of a cold plan (user+sys, children included) against the C-loader floor's, side
by side with another checkout of the code (e.g. the commit before a change).

Usage: .venv/bin/python benchmarks/cold_plan_cpu.py [--numbers N] [--sites S]
           [--rounds R] [--against DIR]

A CI runner pays for CPU, not wall time: each round runs the floor (a bare
`yaml.load(..., Loader=yaml.CSafeLoader)` of every site file, in a fresh
interpreter), a cold plan of this checkout and, with --against, a cold plan of the
code in DIR (a `git worktree` of an older commit). Both run the same way: Python
without its site hook (the editable install's finder would win over any path) and
the checkout, then site-packages, on PYTHONPATH. "Cold":
no cache entry exists. CPU is what wait4 reports for the process, which counts every
child it waited for. Medians of the rounds, and each plan's ratio to the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed_targets import ENVIRONMENT, FLOOR  # type: ignore[import-not-found]
from tenant_at_scale import write_tenant  # type: ignore[import-not-found]


def cpu_of(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(user+sys seconds, wall seconds) of one process and the children it waited for."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {error}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=24_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout's root")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sites = root / "sites"
        write_tenant(sites, args.numbers, args.sites)
        cache_home = root / "cache-home"
        env = {**ENVIRONMENT, "XDG_CACHE_HOME": str(cache_home)}
        plan = [sys.executable, "-S", "-c", "import sys; from reconciler.cli import main; "
                "sys.exit(main())", "plan", str(sites), "--tenant",
                f"sqlite:///{root / 'tenant.db'}"]
        checkouts = {"this": Path(__file__).resolve().parent.parent}
        if args.against is not None:
            checkouts["against"] = args.against.resolve()
        site_packages = sysconfig.get_path("purelib")
        variants = {name: {**env, "PYTHONPATH": f"{checkout}{os.pathsep}{site_packages}"}
                    for name, checkout in checkouts.items()}
        runs: dict[str, list[tuple[float, float]]] = {"floor": [], **{n: [] for n in variants}}
        for _ in range(args.rounds):
            runs["floor"].append(cpu_of([sys.executable, "-c", FLOOR, str(sites)], root, env))
            for name, variant in variants.items():
                shutil.rmtree(cache_home, ignore_errors=True)  # cold: no entry anywhere
                shutil.rmtree(root / ".reconciler", ignore_errors=True)
                runs[name].append(cpu_of(plan, root, variant))
        floor_cpu = statistics.median(cpu for cpu, _ in runs["floor"])
        print(f"{args.numbers} numbers over {args.sites} sites, {args.rounds} rounds (medians)")
        for name, measured in runs.items():
            cpu = statistics.median(c for c, _ in measured)
            wall = statistics.median(w for _, w in measured)
            print(f"{name:<8} cpu {cpu:7.2f} s  wall {wall:7.2f} s  "
                  f"cpu/floor {cpu / floor_cpu:5.2f}x")


if __name__ == "__main__":
    main()
