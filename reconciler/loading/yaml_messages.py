"""What a YAML syntax error means, in the words of someone editing a config file.

The parser says "did not find expected key"; the person needs "this line does not
line up with the ones above". Known errors are said plainly with what to write
instead; anything else keeps the parser's words.
"""

from __future__ import annotations

_PLAIN = {
    "did not find expected key":
        "this line does not line up with the lines above it: the fields of one entry start "
        "at the same column; fix its indentation (spaces only)",
    "did not find expected '-' indicator":
        "this line does not line up: list items start with '- ' at the same column, and the "
        "fields of an entry line up under its first field; fix the indentation (spaces only)",
    "mapping values are not allowed in this context":
        "a ': ' here is read as the start of another key: quote the value if it holds ': ' "
        "(name: \"Sales: front desk\"), or fix the indentation",
    "mapping values are not allowed here":
        "a ': ' here is read as the start of another key: quote the value if it holds ': ' "
        "(name: \"Sales: front desk\"), or fix the indentation",
    "found undefined alias":
        "this alias (*name) refers to no anchor (&name) defined above it; define the anchor "
        "first or write the value out",
    "found unexpected end of stream":
        "a quote opened here is never closed; close it on the same line",
    "but found another document":
        "a config file holds one YAML document: remove the '---' line and merge the two "
        "parts, or move the second part to a file of its own",
}


def plain(problem: str | None, context: str | None, character: str) -> str:
    """The message for a syntax error; `character` is the one at the error's position."""
    if problem == "found character that cannot start any token" or (
            problem or "").startswith("found character '\\t'"):
        if character == "\t":
            return ("a tab is used for indentation here; YAML indents with spaces only: "
                    "replace the tab with spaces")
        return ("this character cannot start a value here; put the value in quotes "
                "(e.g. name: \"@reception\")")
    known = _PLAIN.get(problem or "")
    if known is not None:
        return known
    parser = " ".join(part for part in (context, problem) if part)
    return f"invalid YAML: {parser}"
