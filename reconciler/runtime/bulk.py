"""Running bulk phases (load, read, plan) without the cyclic garbage collector.

Loading a 100,000-number tenant allocates millions of small, acyclic objects;
CPython's collector keeps re-scanning them as they pile up, which made
validate 2.5x slower at 50,000 numbers (BENCHMARKS.md). Nothing we build in
these phases forms reference cycles, so pausing the collector loses nothing;
reference counting still frees everything as usual. The console script also
freezes what the phases leave (`freeze_after_bulk_phases`): the collector then
never rescans the loaded tenant while the plan is printed or applied.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_freeze = False


def freeze_after_bulk_phases() -> None:
    """In a process of our own (the console script), move what a bulk phase leaves to
    the collector's permanent generation, so that later collections never scan it
    again. Not in tests that run many commands in one process: frozen cycles would
    never be freed there."""
    global _freeze
    _freeze = True


@contextmanager
def bulk_phase() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
