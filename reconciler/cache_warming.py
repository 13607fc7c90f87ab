"""A cold load shared by two processes: the parent reads the site files the cache
lacks from the first, a forked child from the last, storing their entries, until
they meet; the parent then finds the child's files in the cache.

Reading and validating YAML is most of a cold plan, and all of it is Python under
one interpreter lock. The cache already turns a loaded file into an entry the
parent reads at about a fifth of the cost, authenticated and keyed by the file's
bytes, so the child needs no other way to hand over its work: it only warms the
cache. Nothing it does is trusted beyond what the cache trusts. If it fails or is
killed, its files are not in the cache and the parent reads them itself; a file
with a problem is never stored, so the parent reads it and reports the problem.

Meeting in the middle, rather than splitting the files in advance, keeps the
parent from waiting on a child that happens to be slower (measured: 10-20% more CPU
for the same bytes, and a busy machine makes it worse). Two counters in memory both
processes share say how far each has come. Each writes its own and then reads the
other's; at the meeting file, either one of them reads it, or both do (the same
entry written twice, atomically: only time lost).

Only where a cache is used (plan and validate), and only when the files missing
from it hold enough bytes to pay for a fork (`forked.worth_forking`).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from pathlib import Path

from reconciler import failpoints
from reconciler.forked import ForkedChild, fork_child, may_fork, worth_forking
from reconciler.site_file_cache import SiteFileCache
from reconciler.yaml_reading import ReadResult, read_content

#: About 1,500 resources of YAML. Measured (BENCHMARKS.md): a cold plan of 216 KB
#: was no faster with a child (0.53 s against 0.51 s), of 360 KB 12% faster.
MIN_MISSING_BYTES = 300_000
# The shared counters: the parent's next file to read, and the child's last file
# taken, as indices into the missing files.
_PARENT_NEXT, _CHILD_TAKEN = 0, 8


class Warming:
    """`before(file)` is called by the parent for each file in order: it claims the
    file, or, where the child got there first, waits for the child to finish.
    `stop()` ends a child still running (the parent failed)."""

    def __init__(self, child: ForkedChild, missing: dict[Path, int],
                 progress: mmap.mmap, cache: SiteFileCache) -> None:
        self._child: ForkedChild | None = child
        self._cache = cache
        self._missing = missing  # file -> its index among the missing files
        self._progress = progress
        self.given = 0  # files the child took, once it has ended well

    def before(self, file: Path) -> None:
        index = self._missing.get(file)
        if self._child is None or index is None:
            return
        struct.pack_into("q", self._progress, _PARENT_NEXT, index + 1)
        if index >= struct.unpack_from("q", self._progress, _CHILD_TAKEN)[0]:
            # Done or failed: the cache says which files it stored.
            if self._child.answer() is not None:
                self.given = len(self._missing) - index
            self._child = None

    def stop(self) -> None:
        """End a child still running, and say in --verbose what the child read."""
        if self._child is not None:
            self._child.stop()
            self._child = None
        self._progress.close()
        self._cache.counts.notes.append(f"{self.given} file(s) read by a second process")


def warm_alongside(cache: SiteFileCache, site_files: list[tuple[str, Path]],
                   shown: Callable[[Path], str],
                   load_one: Callable[[str, Path], object]) -> Warming | None:
    """Start a child loading (with `load_one`, which stores entries) the files the
    cache lacks, from the last; None when not worth it."""
    if not may_fork():
        return None  # no reading every file just to find that out
    missing: list[tuple[str, Path, int]] = []
    for site, file in site_files:
        # Bounded, as every read of a config file: a FIFO swapped in after the scan
        # or a file of gigabytes is left to the parent's reading, which reports it.
        content = read_content(file, shown(file))
        if isinstance(content, ReadResult):
            continue
        if not cache.holds(shown(file), site, content):
            missing.append((site, file, len(content)))
    total = sum(size for _, _, size in missing)
    if not worth_forking(total >= MIN_MISSING_BYTES) or len(missing) < 2:
        return None
    try:
        progress = mmap.mmap(-1, 16)  # anonymous and shared: the child sees the parent's writes
    except OSError:
        return None  # read in one process, as always
    # The last file is the child's from the start: the parent never reads everything
    # alone while a child is starting (and tests know one file the child reads).
    struct.pack_into("qq", progress, 0, 0, len(missing) - 1)

    def warm() -> bytes:
        for index in range(len(missing) - 1, -1, -1):
            struct.pack_into("q", progress, _CHILD_TAKEN, index)
            if index < struct.unpack_from("q", progress, _PARENT_NEXT)[0]:
                break  # the parent has this one: they met
            failpoints.reach("warming-child-took")
            site, file, _ = missing[index]
            load_one(site, file)
        return b""

    child = fork_child(warm, "warming-child")
    if child is None:
        progress.close()
        return None
    return Warming(child, {file: index for index, (_, file, _) in enumerate(missing)}, progress,
                   cache)
