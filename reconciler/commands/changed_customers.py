"""Which customers' config directories changed since a git ref (`--changed-since REF`,
`reconcile customers changed`): a pull request plans only the customers it touches.

A customer changed when a file under its folder was added, changed, removed or
renamed in the commits since REF (`git diff REF`, its merge base for `REF...`), or is
so in the working tree, or is new and not ignored by git. Git is asked three times per
repository (where it is, what differs, what is new), not per customer: a repository of
hundreds of customers costs three processes, and each path is then matched to its
customer.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from reconciler.runtime.errors import ReconcilerError


def changed(config_dirs: Sequence[Path], ref: str) -> list[Path]:
    if ref.startswith("-"):
        raise ReconcilerError(f"--changed-since {ref!r} is not a git ref")
    touched: dict[Path, set[PurePosixPath]] = {}  # per repository: the paths touched
    roots: dict[Path, Path] = {}  # per folder git was asked from: its repository
    kept = []
    for config_dir in config_dirs:
        # A folder without a .git of its own (not a repository or submodule itself) is
        # in its parent's repository: asked once for all of a parent's customers.
        asked = config_dir.resolve()
        if not asked.is_dir():
            raise ReconcilerError(f"config directory '{config_dir}' does not exist, so git "
                                  "cannot tell what changed in it; pass the customers' "
                                  "folders (customers/*)")
        if not (asked / ".git").exists():
            asked = asked.parent
        if asked not in roots:
            roots[asked] = Path(_git(asked, "rev-parse", "--show-toplevel").strip()).resolve()
        root = roots[asked]
        if root not in touched:
            touched[root] = _paths_touched(root, ref)
        inside = PurePosixPath(config_dir.resolve().relative_to(root).as_posix())
        if any(path.is_relative_to(inside) for path in touched[root]):
            kept.append(config_dir)
    return kept


def _paths_touched(root: Path, ref: str) -> set[PurePosixPath]:
    """Every path of the repository at `root` that differs from REF, or is new. Both
    sides of a rename count (--no-renames): a file moved from one customer to another
    changes both."""
    listed = (_git(root, "diff", "--name-only", "--no-renames", "-z", ref, "--")
              + _git(root, "ls-files", "--others", "--exclude-standard", "-z"))
    return {PurePosixPath(name) for name in listed.split("\0") if name}


def _git(folder: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                              text=True, timeout=120, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError as error:
        raise ReconcilerError("--changed-since needs git, which is not installed") from error
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise ReconcilerError(f"git could not tell what changed in {folder} ({said}); "
                              "--changed-since takes a ref of this repository, e.g. "
                              "origin/main (fetch it first in CI)")
    return done.stdout
