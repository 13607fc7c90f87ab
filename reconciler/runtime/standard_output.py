"""stdout that never loses output in silence: a write refused (closed pipe, full disk,
file-size limit) is an error the command reports, never exit 0 with a cut plan.

Python's own stdout under PYTHONUNBUFFERED (set on many CI runners) writes straight
to the file descriptor and drops whatever a short write left unwritten, with no
error: a file-size limit then gave exit 0 and a plan cut at the limit. Here stdout
always goes through a buffered writer, which writes the rest or raises, flushed at
each line when it was unbuffered (so logs still show lines as they come), and every
error is an `OutputLost`. It subclasses BrokenPipeError, so whatever already stops
honestly on a closed stdout (an apply between two steps) stops alike on a full disk.
"""

from __future__ import annotations

import errno
import io
import sys
from typing import Any


class OutputLost(BrokenPipeError):
    """stdout refused a write: the output is incomplete."""


def describe(error: OSError) -> str:
    """'stdout was closed', or 'stdout could not be written (No space left on device)'."""
    if error.errno in (errno.EPIPE, None) or type(error) is BrokenPipeError:
        return "stdout was closed"
    return f"stdout could not be written ({error.strerror})"


class _CheckedOutput(io.TextIOWrapper):
    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputLost(error.errno, error.strerror) from error

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputLost(error.errno, error.strerror) from error


def install() -> None:
    """Replace sys.stdout (the console script's, a real file descriptor) by a checked,
    buffered writer on the same descriptor, with the same encoding."""
    current: Any = sys.stdout
    try:
        descriptor = current.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real descriptor (a test runner's capture): leave it
    unbuffered = not isinstance(getattr(current, "buffer", None), io.BufferedWriter)
    raw = io.FileIO(descriptor, "w", closefd=False)
    sys.stdout = _CheckedOutput(
        io.BufferedWriter(raw), encoding=current.encoding, errors=current.errors,
        line_buffering=current.line_buffering or unbuffered)
