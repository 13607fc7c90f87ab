"""The import graph's figures, for ARCHITECTURE.md: how many modules, imports and layers.

Usage: .venv/bin/python benchmarks/import_graph.py

Counted with grimp (import-linter's own graph), over `schema` and `reconciler`:
- modules: every module, packages' `__init__` included;
- imports: distinct imports from one of our modules to another;
- rooms and arrows: the same graph with each package under `reconciler/` (and
  `schema/` as a whole) folded into one node, as a newcomer first meets it;
- floors: the longest chain of arrows between rooms, plus one;
- loose: modules at the top of `reconciler/`, outside any package;
- layers: the layers the import-linter contract in pyproject.toml names;
- over 400: modules longer than 400 lines.
"""

from __future__ import annotations

import sys
import tomllib
from functools import cache
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def room_of(module: str) -> str:
    """A module's room: schema whole; a package under reconciler; a loose module itself."""
    parts = module.split(".")
    if parts[0] == "schema":
        return "schema"
    if len(parts) == 1:
        return "reconciler"
    return ".".join(parts[:2])


def main() -> int:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("schema", "reconciler")
    modules = sorted(graph.modules)
    imports = {
        (importer, imported)
        for importer in modules
        for imported in graph.find_modules_directly_imported_by(importer)
    }
    arrows = {
        (room_of(a), room_of(b)) for a, b in imports if room_of(a) != room_of(b)
    }
    rooms = {room_of(m) for m in modules}
    below: dict[str, set[str]] = {room: set() for room in rooms}
    for a, b in arrows:
        below[a].add(b)

    @cache
    def floor(room: str) -> int:
        return 1 + max((floor(lower) for lower in below[room]), default=0)

    loose = [
        m for m in modules
        if m.count(".") == 1 and m.startswith("reconciler.")
        and not (ROOT / m.replace(".", "/")).is_dir()
    ]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = max(len(c.get("layers", [])) for c in contracts)
    long_modules = []
    for path in sorted([*ROOT.joinpath("reconciler").rglob("*.py"),
                        *ROOT.joinpath("schema").rglob("*.py")]):
        lines = len(path.read_text().splitlines())
        if lines > 400:
            long_modules.append(f"{path.relative_to(ROOT)} ({lines})")
    print(f"modules      {len(modules)}")
    print(f"imports      {len(imports)}")
    print(f"rooms        {len(rooms)}")
    print(f"arrows       {len(arrows)}")
    print(f"floors       {max(floor(r) for r in rooms)}")
    print(f"loose        {len(loose)}  (top of reconciler/)")
    print(f"layers       {layers}  (import-linter contract)")
    print(f"over 400     {len(long_modules)}  {', '.join(long_modules)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
