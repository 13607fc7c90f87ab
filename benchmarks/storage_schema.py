"""A tenant's storage side by side with another commit's: the apply that creates every
number, and the apply that renumbers them all (each number moved once), on the
embedded SQLite tenant and optionally PostgreSQL.

Usage: .venv/bin/python benchmarks/storage_schema.py --baseline DIR [--numbers N]
           [--rounds R] [--postgres URL]

DIR is a checkout of the commit to compare with (`git worktree add /tmp/base COMMIT`);
both run with this interpreter, each as users run it (`python -m reconciler`, a
process of its own), alternating for R rounds. Printed: the medians of wall time and
CPU time (user+sys of the child), and current/baseline ratios: compare within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' server
from tenant_at_scale import write_tenant  # type: ignore[import-not-found]

from tests.postgres_server import running_server, tenant_url

CURRENT = Path(__file__).resolve().parent.parent


@contextmanager
def postgres_server(given: str | None) -> Iterator[str | None]:
    """None, the server given, or (auto) the tests' own throwaway one."""
    if given != "auto":
        yield given
        return
    with running_server() as url:
        yield url


def _run(checkout: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds of one `reconcile` in `checkout`'s code."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "RECONCILER_CACHE": "off"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env,
                          capture_output=True, text=True, cwd=checkout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: reconcile {' '.join(args)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _renumbered(tree: Path, moved: Path) -> None:
    """Every number moved once, 50,000 up (`previous_number`/`previous_extension` on
    each; members follow their users), so no renumber needs a swap."""
    shutil.copytree(tree, moved)
    for path in moved.rglob("*.yaml"):
        if path.name != "tenant.yaml":
            text = _ITEM.sub(lambda m: f'- {{{m[1]}: "{_moved(m[2])}", previous_{m[1]}: '
                                       f'"{m[2]}"', path.read_text())
            path.write_text(_MEMBER.sub(lambda m: f'{{extension: "{_moved(m[1])}", button',
                                        text))


_ITEM = re.compile(r'- \{(extension|number): "(\d{5})"')
_MEMBER = re.compile(r'\{extension: "(\d{5})", button')


def _moved(number: str) -> str:
    return f"{int(number) + 50_000:05d}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", metavar="URL",
                        help="a server whose role may create databases (one per tenant), "
                             "or 'auto' to start a throwaway one as the tests do")
    options = parser.parse_args()
    if options.numbers > 50_000:
        parser.error("--numbers: at most 50,000 (the renumber moves each 50,000 up)")
    checkouts = {"baseline": options.baseline.resolve(), "current": CURRENT}
    with postgres_server(options.postgres) as server, \
            tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        tree, moved = root / "sites", root / "moved"
        write_tenant(tree, options.numbers, options.sites)
        _renumbered(tree, moved)
        figures: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
        for _ in range(options.rounds):
            for name, checkout in checkouts.items():
                tenants = [("sqlite", f"sqlite:///{root / uuid.uuid4().hex}.db")]
                if server is not None:
                    tenants.append(("postgresql", tenant_url(server,
                                                             f"bench{uuid.uuid4().hex[:8]}")))
                for engine, url in tenants:
                    for stage, config in (("create all", tree), ("renumber all", moved)):
                        figures.setdefault((engine, stage, name), []).append(
                            _run(checkout, "apply", "--auto-approve", "--tenant", url,
                                 str(config)))
    print(f"{options.numbers:,} numbers, {options.rounds} round(s); medians")
    print(f"{'engine':<11} {'stage':<13} {'baseline wall/cpu':>19} {'current wall/cpu':>18}"
          f" {'ratio wall/cpu':>15}")
    for engine in ("sqlite", "postgresql"):
        for stage in ("create all", "renumber all"):
            if (engine, stage, "current") not in figures:
                continue
            base = [statistics.median(v) for v in zip(*figures[(engine, stage, "baseline")],
                                                      strict=True)]
            new = [statistics.median(v) for v in zip(*figures[(engine, stage, "current")],
                                                     strict=True)]
            print(f"{engine:<11} {stage:<13} {base[0]:8.2f}s/{base[1]:7.2f}s "
                  f"{new[0]:8.2f}s/{new[1]:7.2f}s {new[0] / base[0]:7.2f}x/"
                  f"{new[1] / base[1]:5.2f}x")


if __name__ == "__main__":
    main()
