"""The plan in a CI job's summary page (GitHub's `$GITHUB_STEP_SUMMARY`, or any file a
CI system shows): the markdown plan, appended, within the page's size limit.

GitHub refuses a step summary over 1 MiB and shows none of it, so a larger plan is
cut at a line, any open code fence is closed, and a note says where the whole plan
is. Appending (never rewriting) keeps what earlier commands of the step wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.runtime.errors import ReconcilerError

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
LIMIT = 1024 * 1024  # bytes, GitHub's limit for one step's summary


def summary_path(given: str | None) -> Path | None:
    """--summary-file if given (an empty value turns it off), else $GITHUB_STEP_SUMMARY.
    Taken as text: a Path would turn '' into '.', the working directory."""
    if given is not None:
        return Path(given) if given else None
    from_ci = os.environ.get(SUMMARY_VARIABLE)
    return Path(from_ci) if from_ci else None


def append_summary(path: Path, markdown: str, changes: int) -> bool:
    """Append the plan; True if it had to be cut to fit."""
    try:
        used = path.stat().st_size if path.exists() else 0
        if path.is_dir():
            raise IsADirectoryError(path)
        text, cut = fitted(markdown, LIMIT - used, changes)
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(text)
    except OSError as error:
        raise ReconcilerError(f"cannot write the job summary {path}: {error.strerror or error}; "
                              "the plan itself was printed") from error
    return cut


def fitted(markdown: str, room: int, changes: int) -> tuple[str, bool]:
    if len(markdown.encode()) <= room:
        return markdown, False
    note = (f"\n\n> **This plan of {changes} change(s) is cut here**, at the job summary's "
            "1 MiB limit. The whole plan is in the job's log and in the saved plan "
            "(`reconcile show plan.json`).\n")
    # Room for the closing fence: at most a name's 64 backticks in a row, and one more.
    budget = max(room - len(note.encode()) - 128, 0)
    kept: list[str] = []
    size = 0
    for line in markdown.splitlines(keepends=True):
        size += len(line.encode())
        if size > budget:
            break
        kept.append(line)
    fence = _open_fence(kept)
    if fence:
        kept.append(fence + "\n")
    return "".join(kept) + note, True


def _open_fence(lines: list[str]) -> str:
    """The fence of a code block still open after `lines`, or "": a block opened by
    more than three backticks (one holding a name with backticks) closes only with as
    many, so the note after the cut is never swallowed by it."""
    open_fence = ""
    for line in lines:
        run = len(line) - len(line.lstrip("`"))
        if run < 3:
            continue
        if not open_fence:
            open_fence = "`" * run
        elif run >= len(open_fence) and not line.strip().strip("`"):
            open_fence = ""
    return open_fence
