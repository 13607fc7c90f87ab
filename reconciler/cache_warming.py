"""A cold load split over two processes: a forked child loads the later half of the
site files the cache lacks, storing their entries, while the parent loads the
earlier half; the parent then finds the child's files in the cache.

Reading and validating YAML is most of a cold plan, and all of it is Python under
one interpreter lock. The cache already turns a loaded file into an entry the
parent reads at a twentieth of the cost, authenticated and keyed by the file's
bytes, so the child needs no other way to hand over its work: it only warms the
cache. Nothing it does is trusted beyond what the cache trusts. If it fails or is
killed, its files are not in the cache and the parent reads them itself; a file
with a problem is never stored, so the parent reads it and reports the problem.

Only where a cache is used (plan and validate), and only when the files missing
from it hold enough bytes to pay for a fork (`forked.worth_forking`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.forked import ForkedChild, fork_child, worth_forking
from reconciler.site_file_cache import SiteFileCache

#: About 5,000 resources of YAML: below this, a child costs more than it saves.
MIN_MISSING_BYTES = 1_000_000


class Warming:
    """The child's files; `before(file)` waits for the child the first time one of its
    files comes up. `stop()` ends a child still running (the parent failed)."""

    def __init__(self, child: ForkedChild, files: set[Path]) -> None:
        self._child: ForkedChild | None = child
        self.files = files

    def before(self, file: Path) -> None:
        if self._child is not None and file in self.files:
            self._child.answer()  # done or failed: the cache says which files it stored
            self._child = None

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None


def warm_alongside(cache: SiteFileCache, site_files: list[tuple[str, Path]],
                   shown: Callable[[Path], str],
                   load_one: Callable[[str, Path], object]) -> Warming | None:
    """Start a child loading (with `load_one`, which stores entries) the later half, by
    bytes, of the files the cache lacks; None when not worth it."""
    missing: list[tuple[str, Path, int]] = []
    for site, file in site_files:
        try:
            content = file.read_bytes()
        except OSError:
            continue  # the parent's own reading reports it
        if not cache.holds(shown(file), site, content):
            missing.append((site, file, len(content)))
    total = sum(size for _, _, size in missing)
    if not worth_forking(total >= MIN_MISSING_BYTES) or len(missing) < 2:
        return None
    # The parent takes files in tree order until it has half the bytes; the child the
    # rest, so the parent reaches the child's first file about when the child is done.
    taken, split = 0, len(missing)
    for index, (_, _, size) in enumerate(missing):
        if taken >= total / 2:
            split = index
            break
        taken += size
    later = missing[split:]
    if not later:
        return None

    def warm() -> bytes:
        for site, file, _ in later:
            load_one(site, file)
        return b""

    child = fork_child(warm, "warming-child")
    return None if child is None else Warming(child, {file for _, file, _ in later})
