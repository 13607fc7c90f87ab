"""`--changed-since` over many customers: how long working out which changed takes.

Usage: .venv/bin/python benchmarks/changed_customers.py [--customers N] [--rounds R]
           [--against DIR]

Builds a git repository of N customer folders (one file each), changes one, and
times `changed(folders, "HEAD")` R times in this process: wall time, and the CPU of
the git processes it ran. With --against, the same with the module of another
checkout (e.g. `git worktree add /tmp/before COMMIT`), side by side.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
MODULE = Path("reconciler/commands/changed_customers.py")


def _changed_of(checkout: Path) -> Callable[[list[Path], str], list[Path]]:
    spec = importlib.util.spec_from_file_location(f"changed_{abs(hash(checkout))}",
                                                  checkout / MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.changed  # type: ignore[no-any-return]


def _repository(root: Path, customers: int) -> list[Path]:
    folders = []
    for number in range(customers):
        folder = root / "customers" / f"c{number}"
        (folder / "Main").mkdir(parents=True)
        (folder / "Main" / "users.yaml").write_text("users: []\n")
        folders.append(folder)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=root, check=True)
    (folders[len(folders) // 2] / "Main" / "users.yaml").write_text("users: [] # edited\n")
    return folders


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path)
    options = parser.parse_args()
    checkouts = {"this": HERE, **({"against": options.against.resolve()}
                                  if options.against else {})}
    with tempfile.TemporaryDirectory() as scratch:
        folders = _repository(Path(scratch), options.customers)
        for name, checkout in checkouts.items():
            changed = _changed_of(checkout)
            for _ in range(options.rounds):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                found = changed(folders, "HEAD")
                wall = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                print(f"{name:<8} {len(found)} of {len(folders)} changed  wall {wall:6.2f} s"
                      f"  git cpu {cpu:6.2f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
