"""CPU of a plan against the portal's List Download (.xlsx), on each reader, against the
same plan against the embedded tenant holding the same users.

Usage: .venv/bin/python benchmarks/list_download_plan.py [--users N] [--rounds R]
           [--read-rows M]

It writes a tree of N users and hot desk users (and the shared lines that go with
them, which a List Download does not show), applies it to an embedded tenant, and
writes the List Download the portal would give for it. Each round runs `reconcile
plan --no-cache` against the embedded tenant, then against the .xlsx with each
reader (RECONCILER_XLSX_READER). CPU is user+sys of the process (wait4); medians,
and each plan's ratio to the embedded tenant's. With --read-rows, it then times
reading alone (`workbook.read_sheet`, in this process, in a bulk phase as a plan
reads it) of an M-row download with each reader.
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

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed_targets import ENVIRONMENT  # type: ignore[import-not-found]
from tenant_at_scale import write_tenant  # type: ignore[import-not-found]

HEADERS = ["Site", "Extension", "Name", "Package", "Direct Dial Call Number", "Call Barring",
           "Device", "Portal ID", "E-mail", "Group Member Type", "Outgoing Caller ID",
           "MAC Address", "Password", "Update Time"]
RECONCILE = str(Path(sys.executable).parent / "reconcile")


def write_download(path: Path, numbers: int, sites: int) -> None:
    """What the portal lists for write_tenant's tree: its users, then its hot desk users
    (write_tenant's shares: 70% and 20% of the numbers)."""
    users, desks = int(numbers * 0.7), int(numbers * 0.2)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("User List")
    sheet.append(HEADERS)
    for i in range(users):
        sheet.append([f"site{i % sites:03d}", f"{i:05d}", f"User {i}", "Basic", None, None,
                      "1030,iPECS One Premium", None, f"u{i}@example.com",
                      "Multi site group members", None, f"02{i:010X}", None,
                      "2026-12-01 10:00:00"])
    for i in range(desks):
        sheet.append([f"site{i % sites:03d}", f"{users + i:05d}", f"Desk {i}", "Basic", None,
                      None, "HotDesk User", None, None, "Multi site group members", None,
                      None, None, "2026-12-01 10:00:00"])
    book.save(path)


def cpu_of(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """(user+sys seconds, exit code) of one process and the children it waited for."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {error}")
    return usage.ru_utime + usage.ru_stime, code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20_000,
                        help="users and hot desk users (the download's rows)")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--read-rows", type=int, default=0)
    args = parser.parse_args()
    numbers = round(args.users / 0.9)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sites = root / "sites"
        write_tenant(sites, numbers, args.sites)
        env = {**ENVIRONMENT, "XDG_CACHE_HOME": str(root / "cache")}
        embedded = f"sqlite:///{root / 'tenant.db'}"
        started = time.perf_counter()
        subprocess.run([RECONCILE, "apply", "--auto-approve", str(sites), "--tenant", embedded],
                       cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
        download = root / "download.xlsx"
        write_download(download, numbers, args.sites)
        print(f"set up in {time.perf_counter() - started:.1f} s: {args.users} rows, "
              f"{download.stat().st_size:,} bytes")
        plans = {"embedded tenant": (embedded, {}),
                 **{f"download, {reader}": (f"list-download:///{download}",
                                            {"RECONCILER_XLSX_READER": reader})
                    for reader in ("openpyxl", "calamine")}}
        runs: dict[str, list[float]] = {name: [] for name in plans}
        for _ in range(args.rounds):
            for name, (tenant, extra) in plans.items():
                cpu, _ = cpu_of([RECONCILE, "plan", "--no-cache", str(sites), "--tenant",
                                 tenant], root, {**env, **extra})
                runs[name].append(cpu)
        base = statistics.median(runs["embedded tenant"])
        print(f"{args.users} users and hot desk users, {args.rounds} rounds (medians)")
        for name, measured in runs.items():
            cpu = statistics.median(measured)
            print(f"{name:<22} cpu {cpu:7.2f} s   {cpu / base:5.2f}x the embedded tenant's")
        if args.read_rows:
            time_reading(root / "big.xlsx", args.read_rows, args.sites, args.rounds)


def time_reading(path: Path, rows: int, sites: int, rounds: int) -> None:
    from reconciler.providers.list_download.workbook import read_sheet
    from reconciler.runtime.bulk import bulk_phase

    write_download(path, round(rows / 0.9), sites)
    timings: dict[str, float] = {}
    for reader in ("openpyxl", "calamine"):
        os.environ["RECONCILER_XLSX_READER"] = reader
        measured = []
        for _ in range(rounds):
            with bulk_phase():  # as a plan reads it (runs.plan_config)
                start = time.process_time()
                sheet = read_sheet(path, None)
                measured.append(time.process_time() - start)
        timings[reader] = statistics.median(measured)
        print(f"reading {len(sheet.rows):,} rows, {reader:<9} cpu {timings[reader]:6.2f} s")
    print(f"calamine reads in {timings['calamine'] / timings['openpyxl']:.2f}x openpyxl's time")


if __name__ == "__main__":
    main()
