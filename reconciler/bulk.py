"""Running bulk phases (load, read, plan) without the cyclic garbage collector.

Loading a 100,000-number tenant allocates millions of small, acyclic objects;
CPython's collector keeps re-scanning them as they pile up, which made
validate 2.5x slower at 50,000 numbers (BENCHMARKS.md). Nothing we build in
these phases forms reference cycles, so pausing the collector loses nothing;
reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_phase() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
