"""Which customers' config directories changed since a git ref (`--changed-since REF`,
`reconcile customers changed`): a pull request plans only the customers it touches.

A customer changed when a file under its folder was added, changed, removed or
renamed in the commits since REF (`git diff REF`, its merge base for `REF...`), or is
so in the working tree, or is new and not ignored by git.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from reconciler.runtime.errors import ReconcilerError


def changed(config_dirs: Sequence[Path], ref: str) -> list[Path]:
    if ref.startswith("-"):
        raise ReconcilerError(f"--changed-since {ref!r} is not a git ref")
    return [config_dir for config_dir in config_dirs if _touched(config_dir, ref)]


def _touched(config_dir: Path, ref: str) -> bool:
    differ = _git(config_dir, "diff", "--name-only", "--relative", ref, "--", ".")
    new = _git(config_dir, "ls-files", "--others", "--exclude-standard", "--", ".")
    return bool(differ.strip() or new.strip())


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
