"""Text safe to print: values from configs and tenants cannot steer a terminal or a reviewer.

A name holding an escape sequence could repaint a terminal or hide a line; a
bidirectional override (U+202E and friends) could make a plan read differently
from what it does (the "Trojan Source" trick). Such characters are shown as
escapes (\\x1b, \\u202e), never written raw.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional embeddings, overrides, isolates and marks.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_BIDI}]")
_UNSAFE_KEEPING_LINES = re.compile(f"[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` with control, line-separator and bidirectional characters escaped;
    with `keep_newlines`, "\\n" stays (for multi-line messages we wrote)."""
    pattern = _UNSAFE_KEEPING_LINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, text)


#: Unicode's control characters (category Cc) are exactly these 65 code points.
_CONTROL = re.compile("[\\x00-\\x1f\\x7f-\\x9f]")


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, escaped, for a message that names them. A
    regular expression answers for the common case (none), one pass in C: this runs
    on every name and text field of a tenant."""
    if not _CONTROL.search(text):
        return []
    return [printable(c) for c in dict.fromkeys(text) if unicodedata.category(c) == "Cc"]
