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
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
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


#: Commands run as users run them: with Python's bytecode cache. A shell that sets
#: PYTHONDONTWRITEBYTECODE would make every run compile our modules again.
ENVIRONMENT = {key: value for key, value in os.environ.items()
               if key != "PYTHONDONTWRITEBYTECODE"}
#: The cache of validated site files, private to this run: emptied for a cold run.
CACHE_DIR = Path(tempfile.mkdtemp(prefix="ipecs-bench-cache-"))
ENVIRONMENT["RECONCILER_CACHE_DIR"] = str(CACHE_DIR)


def clear_cache() -> None:
    shutil.rmtree(CACHE_DIR, ignore_errors=True)


atexit.register(clear_cache)


@dataclass
class Run:
    seconds: float
    peak_mb: float
    code: int


def command(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """One `reconcile` process: wall time, and its own peak RSS from wait4."""
    start = time.perf_counter()
    process = subprocess.Popen([RECONCILE, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**ENVIRONMENT, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"reconcile {' '.join(args)} failed ({code}): "
                         f"{process.stderr.read().decode() if process.stderr else ''}")
    return Run(seconds, usage.ru_maxrss / 1024, code)


def family_peak_mb(*args: str, cwd: Path) -> float | None:
    """Peak memory of one `reconcile` process and any children it has, summed:
    proportional set sizes (shared pages counted once between them), sampled every
    20 ms from /proc (plans run in one process now; children still count if any). A
    separate run from the timed ones, so that sampling costs them nothing. None where
    /proc is missing."""
    if not Path("/proc/self/smaps_rollup").exists():
        return None
    process = subprocess.Popen([RECONCILE, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=ENVIRONMENT)
    peak = 0
    while process.poll() is None:
        family = [process.pid, *_children(process.pid)]
        peak = max(peak, sum(_pss_kb(pid) for pid in family))
        time.sleep(0.02)
    return peak / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _pss_kb(pid: int) -> int:
    try:
        for text in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if text.startswith("Pss:"):
                return int(text.split()[1])
    except OSError:
        pass
    return 0


def floor(sites: Path) -> float:
    out = subprocess.run([sys.executable, "-c", FLOOR, str(sites)], capture_output=True,
                         text=True, check=True, env=ENVIRONMENT)
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
    print(f"{args.numbers} numbers over {args.sites} sites, {args.rounds} rounds")
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(repo / "reconciler"),
                    str(repo / "schema")], check=True, env=ENVIRONMENT)
    model_floor, small = example_plan(args.rounds * 3)
    line("reconcile plan of the example in sites/ (wall)", small, "s", "(target <= 0.2)")
    line("  click, PyYAML, pydantic imported, one model (alternating)", model_floor, "s")
    with tempfile.TemporaryDirectory() as large, tempfile.TemporaryDirectory() as tenth:
        at_size(Path(large), args.numbers, args.sites, args.rounds)
        print(f"{args.numbers // 10} numbers over {max(args.sites // 5, 1)} sites:")
        at_size(Path(tenth), args.numbers // 10, max(args.sites // 5, 1), args.rounds)
        print(f"linear growth, {args.numbers // 10} -> {args.numbers} numbers, each size's "
              "command alternating (target <= 11x):")
        for stage, seconds in growth(Path(large), Path(tenth), args.rounds).items():
            line(f"  {stage}", seconds, "x")


#: What any plan pays before reading a file: the interpreter, the design card's core
#: packages and one model class. Shown beside the example plan's target.
ONE_MODEL = """
import click, yaml
from pydantic import BaseModel
class Model(BaseModel):
    number: str
Model(number="1001")
"""


def example_plan(rounds: int) -> tuple[float, float]:
    """Medians of a process importing the core packages and defining one model, and of
    the example's plan, alternating."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(repo / "sites", Path(tmp) / "sites")
        return median_pair(rounds, lambda: _wall([sys.executable, "-c", ONE_MODEL]),
                           lambda: command("plan", "--summary-file", "", cwd=Path(tmp)).seconds)


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=ENVIRONMENT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def at_size(work: Path, numbers: int, sites_count: int, rounds: int) -> None:
    """The targets at one size, in `work` (its tree and tenant kept for `growth`)."""
    show = line
    sites = work / "sites"
    write_tenant(sites, numbers, sites_count)
    tenant = ["--tenant", f"sqlite:///{work / 'tenant.db'}"]
    empty = ["--tenant", f"sqlite:///{work / 'empty.db'}"]
    validated = command("validate", str(sites), cwd=work)
    show("validate", validated.seconds, "s")
    show("  peak memory", validated.peak_mb, "MB", "(target < 1024)")
    family("  with its second process (summed PSS)", "validate", str(sites), cwd=work,
           cold=True)
    for cache in ("--no-cache", "--verbose"):  # files read each time; cache warm
        plain, saved = median_pair(
            rounds,
            lambda c=cache: command("plan", str(sites), *empty, c, cwd=work).seconds,
            lambda c=cache: command("plan", str(sites), *empty, c, "--out", "plan.json",
                                    cwd=work).seconds)
        out = command("plan", str(sites), *empty, cache, "--out", "plan.json", cwd=work)
        shown = "no cache" if cache == "--no-cache" else "cache warm"
        show(f"plan, every resource created ({shown})", plain, "s")
        show(f"plan --out plan.json, every resource created ({shown})", saved, "s")
        show("  plan --out / plan", saved / plain, "x", "(target <= 1.2)")
        show("  peak memory of plan --out", out.peak_mb, "MB", "(target < 1024)")
        family("  summed over its processes (PSS)", "plan", str(sites), *empty,
               cache, "--out", "plan.json", cwd=work,
               cold=cache == "--verbose")
    created = command("apply", str(sites), "--auto-approve", *tenant, cwd=work)
    show("apply, every resource created", created.seconds, "s")
    show("  peak memory", created.peak_mb, "MB", "(target < 1024)")
    with_passwords = work / "with-passwords"
    write_tenant(with_passwords, numbers, sites_count, passwords=True)
    secret = command("apply", str(with_passwords), "--auto-approve", "--tenant",
                     f"sqlite:///{work / 'passwords.db'}", cwd=work,
                     env={"RECONCILER_PW_BENCH": "Bench-pass-1"})
    show("apply, every user and hot desk user with a password", secret.seconds, "s")
    show("  with passwords / without", secret.seconds / created.seconds, "x",
         "(target <= 2.0)")
    show("  peak memory", secret.peak_mb, "MB", "(target < 1024)")

    def cold(tree: Path = sites) -> Run:
        clear_cache()
        return command("plan", str(tree), *tenant, cwd=work)

    base, cold_plan = median_pair(rounds, lambda: floor(sites), lambda: cold().seconds)
    show("floor: bare CSafeLoader load of the site files", base, "s")
    show("cold no-change plan", cold_plan, "s")
    show("  cold plan / floor", cold_plan / base, "x", "(target <= 1.0)")
    show("  peak memory", cold().peak_mb, "MB", "(target < 1024)")
    family("  summed over its processes (PSS)", "plan", str(sites), *tenant,
           cwd=work, cold=True)
    warm_plan, warm_base, warm_peak = warm_after_one_file_changed(sites, tenant, work, rounds)
    show("floor, alternating with the warm plans", warm_base, "s")
    show("warm plan after a one-file change (cache of validated files)", warm_plan, "s")
    show("  warm plan / floor", warm_plan / warm_base, "x", "(target <= 0.5)")
    show("  peak memory", warm_peak, "MB", "(target < 1024)")
    imported = command("import", *tenant, "--out", str(work / "imported"), cwd=work)
    show("import", imported.seconds, "s")
    show("  peak memory", imported.peak_mb, "MB", "(target < 1024)")
    # The same tree with 1% of users renamed, beside it: both cold, alternating.
    renamed = work / "renamed" / "sites"
    write_tenant(renamed, numbers, sites_count, renamed=numbers // 100)
    unchanged, changed = median_pair(rounds, lambda: cold().seconds,
                                     lambda: cold(renamed).seconds)
    show("cold no-change plan, alternating with the 1% change", unchanged, "s")
    show("cold plan, 1% of users renamed", changed, "s")
    show("  1% change / no-change plan", changed / unchanged, "x", "(target <= 1.1)")


def growth(large: Path, tenth: Path, rounds: int) -> dict[str, float]:
    """Each stage at both sizes, the larger and the smaller run back to back for
    `rounds` rounds: the ratio of their medians. Stage times taken minutes apart (in
    `at_size`) drift with the machine: the same floor once grew 12.5x for 10x the
    files that way."""
    stages: dict[str, Callable[[Path, int], list[str]]] = {
        "validate": lambda work, _: ["validate", str(work / "sites")],
        "plan": lambda work, _: ["plan", str(work / "sites"), "--tenant",
                                 f"sqlite:///{work / 'tenant.db'}"],
        "apply": lambda work, turn: ["apply", str(work / "sites"), "--auto-approve",
                                     "--tenant", f"sqlite:///{work / f'growth-{turn}.db'}"],
        "import": lambda work, turn: ["import", "--tenant", f"sqlite:///{work / 'tenant.db'}",
                                      "--out", str(work / f"growth-import-{turn}")],
    }
    ratios = {}
    for name, arguments in stages.items():
        turns = iter(range(2 * rounds))  # a fresh tenant or directory each time
        big, small = median_pair(rounds, partial(_cold_run, large, arguments, turns),
                                 partial(_cold_run, tenth, arguments, turns))
        ratios[name] = big / small
    return ratios


def _cold_run(work: Path, arguments: Callable[[Path, int], list[str]], turns: Iterator[int]
              ) -> float:
    """One command in `work`, with no cache (cold, as in the targets above)."""
    clear_cache()
    return command(*arguments(work, next(turns)), cwd=work).seconds


def family(label: str, *args: str, cwd: Path, cold: bool = False) -> None:
    """The summed peak of a command and its children (a cold cache: `cold`)."""
    if cold:
        clear_cache()
    peak = family_peak_mb(*args, cwd=cwd)
    if peak is not None:
        line(label, peak, "MB", "(target < 1024)")


def warm_after_one_file_changed(sites: Path, tenant: list[str], work: Path, rounds: int
                                ) -> tuple[float, float, float]:
    """A plan with the cache warm (the cold plans above left it), after one user of one
    file was renamed, a different name each round: one miss, every other file a hit."""
    users = sites / "site000" / "users.yaml"
    original = users.read_text()
    edits = iter(range(rounds))
    peaks: list[float] = []

    def warm() -> float:
        users.write_text(original.replace('name: "User 0"', f'name: "User 0 v{next(edits)}"', 1))
        run = command("plan", str(sites), *tenant, cwd=work)
        peaks.append(run.peak_mb)
        return run.seconds

    command("plan", str(sites), *tenant, cwd=work)  # the cache holds this tree
    base, warm_plan = median_pair(rounds, lambda: floor(sites), warm)
    users.write_text(original)
    return warm_plan, base, max(peaks)


if __name__ == "__main__":
    main()
