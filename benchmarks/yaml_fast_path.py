"""Ratio of config loading with and without the plain-scalar fast path, in one run.

Usage: .venv/bin/python benchmarks/yaml_fast_path.py [--numbers N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tenant_at_scale import write_tenant  # type: ignore[import-not-found]

from reconciler.loading import yaml_reading
from reconciler.loading.config_loading import load_config
from reconciler.runtime.bulk import bulk_phase


def best_of(runs: int, root: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with bulk_phase():
            load_config(root)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--numbers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sites"
        write_tenant(root, args.numbers, 20)
        fast = best_of(3, root)
        scalars = yaml_reading._SCALARS
        yaml_reading._SCALARS = {}
        try:
            slow = best_of(3, root)
        finally:
            yaml_reading._SCALARS = scalars
        print(f"validate {args.numbers} numbers, best of 3")
        print(f"  construct_object for every node (before) {slow:8.2f} s")
        print(f"  plain-scalar fast path (after)           {fast:8.2f} s")
        print(f"  ratio                                    {slow / fast:8.2f} x")


if __name__ == "__main__":
    main()
