"""The smallest edits to a YAML file's text: a value replaced, a list item removed with its
comments, items appended. Every line not edited stays byte for byte.

The places come from this tool's own reading of the file (`yaml_reading`'s located
mappings and lists: where each key, value and item starts). Where a value ends is
found in the text: a quoted scalar at its closing quote, a flow collection at its
closing bracket, a plain scalar at a comment (or, in flow, a comma or bracket), a
block collection at the first line indented no deeper than it. A YAML library's
round trip would rewrite untouched lines too (its own spacing inside flow mappings,
one indentation for the whole file): a reviewer would see a diff of lines nobody
changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.loading.yaml_reading import LocatedDict, LocatedList


class EditRefused(Exception):
    """The text is written in a way these edits do not take apart (say which)."""


@dataclass
class TextEdits:
    text: str
    _edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines(keepends=True)

    # --- what to change -----------------------------------------------------------

    def replace_value(self, mapping: LocatedDict, key: str, new: str) -> None:
        """The value of `key` becomes `new` (YAML text for one line)."""
        line, column = mapping.value_marks[key]
        value = mapping[key]
        if isinstance(value, LocatedDict | LocatedList) and self._at(line, column) not in "[{":
            self._replace_block(mapping, key, " " + new)
            return
        if value is None and self._line(line)[column:].strip()[:1] in ("", "#"):
            self._replace_block(mapping, key, " " + new)  # `key:` with nothing after it
            return
        end_line, end_column = self._end(line, column, self._in_flow(mapping))
        self._edits.append((line, column, end_line, end_column, new))

    def replace_with_block(self, mapping: LocatedDict, key: str, block: str) -> None:
        """The value of `key` becomes `block`: lines that start on the line after it."""
        self._replace_block(mapping, key, "\n" + block.rstrip("\n"))

    def add_key(self, mapping: LocatedDict, key: str, new: str) -> None:
        """`key: new` added as the mapping's last entry."""
        line, column = mapping.mark
        if self._at(line, column) == "{":
            end_line, end_column = self._bracket_end(line, column)
            inside = self._line(end_line)[:end_column - 1].rstrip().endswith("{")
            self._edits.append((end_line, end_column - 1, end_line, end_column - 1,
                                f"{'' if inside else ', '}{key}: {new}"))
            return
        end = self._block_end(line, column, sequence=False)
        newline = "" if self._line(end).endswith("\n") else "\n"
        self._edits.append((end + 1, 0, end + 1, 0, f"{newline}{' ' * column}{key}: {new}\n"))

    def remove_key(self, mapping: LocatedDict, key: str) -> None:
        """A block mapping's `key` goes, with its value."""
        line, _ = mapping.key_marks[key]
        if self._in_flow(mapping):
            raise EditRefused(f"line {line + 1}: a key of a flow mapping ({{...}}); write "
                              "the mapping one key a line")
        value_line, value_column = mapping.value_marks[key]
        value = mapping[key]
        end = (self._block_end(value_line, value_column, isinstance(value, LocatedList))
               if isinstance(value, LocatedDict | LocatedList) and value_line > line else line)
        self._edits.append((line, 0, end + 1, 0, ""))

    def remove_item(self, items: LocatedList, index: int) -> None:
        """A block list's item goes, with the comment lines right above it."""
        line, column = items.item_marks[index]
        dash = self._line(line).rfind("-", 0, column + 1)
        if dash < 0 or self._line(line)[:dash].strip():
            raise EditRefused(f"line {line + 1}: an item of a flow list ([...]) or one not "
                              "starting its line; write the list one item a line")
        end = (self._end(line, column, False)[0] if self._at(line, column) in "[{"
               else self._block_end(line, column, sequence=False))
        start = line
        while start > 0 and self._line(start - 1).strip().startswith("#"):
            start -= 1
        if self._blank(start - 1) and self._blank(end + 1):
            end += 1  # no two blank lines where the item was
        self._edits.append((start, 0, end + 1, 0, ""))

    def append_items(self, items: LocatedList, rendered: str) -> None:
        """`rendered` items (as `reconcile import` writes them: "  - " at column 2) after
        the last item of a block list, indented as its items are."""
        line, column = items.mark
        if self._at(line, column) != "-":
            raise EditRefused(f"line {line + 1}: a flow list ([...]); write the list one item "
                              "a line")
        end = self._block_end(line, column, sequence=True)
        shift = column - 2
        shifted = "".join((" " * shift + text if shift >= 0 else text[-shift:])
                          if text.strip() else text
                          for text in rendered.splitlines(keepends=True))
        if not self._line(end).endswith("\n"):
            shifted = "\n" + shifted
        self._edits.append((end + 1, 0, end + 1, 0, shifted))

    def result(self) -> str:
        lines = list(self.lines)
        for start_line, start_column, end_line, end_column, new in sorted(
                self._edits, reverse=True):
            head = lines[start_line][:start_column] if start_line < len(lines) else ""
            tail = lines[end_line][end_column:] if end_line < len(lines) else ""
            lines[start_line:end_line + 1] = [head + new + tail]
        return "".join(lines)

    # --- where things end --------------------------------------------------------

    def _replace_block(self, mapping: LocatedDict, key: str, new: str) -> None:
        """From just after `key:` to the end of its value (a block, or nothing)."""
        key_line, key_column = mapping.key_marks[key]
        colon = self._line(key_line).find(":", key_column)
        value_line, value_column = mapping.value_marks[key]
        value = mapping[key]
        if isinstance(value, LocatedDict | LocatedList) and value_line > key_line:
            end = self._block_end(value_line, value_column,
                                  sequence=isinstance(value, LocatedList))
        else:
            end = key_line
        text = self._line(end)
        self._edits.append((key_line, colon + 1, end, len(text.rstrip("\r\n")), new))

    def _end(self, line: int, column: int, flow: bool) -> tuple[int, int]:
        """Where the node starting at (line, column) ends (exclusive)."""
        text = self._line(line)
        first = text[column:column + 1]
        if first in ("\"", "'"):
            closed = _closing_quote(text, column, first)
            if closed is None:
                raise EditRefused(f"line {line + 1}: a quoted value over several lines")
            return line, closed
        if first in ("[", "{"):
            return self._bracket_end(line, column)
        end = len(text.rstrip("\r\n"))
        comment = text.find(" #", column)
        if comment >= 0:
            end = min(end, comment)
        if flow:
            for stop in ",]}":
                found = text.find(stop, column)
                if 0 <= found < end:
                    end = found
        return line, column + len(text[column:end].rstrip())

    def _bracket_end(self, line: int, column: int) -> tuple[int, int]:
        depth, quote = 0, ""
        for number in range(line, len(self.lines)):
            text = self._line(number)
            at = column if number == line else 0
            while at < len(text):
                character = text[at]
                if quote:
                    if character == "\\" and quote == '"':
                        at += 1
                    elif character == quote:
                        quote = ""
                elif character in "\"'":
                    quote = character
                elif character == "#" and (at == 0 or text[at - 1] in " \t"):
                    break  # a comment: the rest of the line
                elif character in "[{":
                    depth += 1
                elif character in "]}":
                    depth -= 1
                    if depth == 0:
                        return number, at + 1
                at += 1
        raise EditRefused(f"line {line + 1}: a bracket that is never closed")

    def _block_end(self, line: int, column: int, sequence: bool) -> int:
        """The last line of the block node starting at (line, column): every later line
        indented deeper, or (a mapping's keys, a list's dashes) as deep. Comments and
        blank lines after its last line are not its own."""
        last = line
        for number in range(line + 1, len(self.lines)):
            text = self._line(number)
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                continue
            indent = len(text) - len(text.lstrip(" "))
            # a mapping's own key, or a list written level with the key that opened it
            opened = self._line(last).split(" #")[0].rstrip().endswith(":")
            if indent > column or (indent == column and (
                    stripped.startswith("-") if sequence
                    else not stripped.startswith("- ") or opened)):
                last = number
                continue
            break
        return last

    def _in_flow(self, mapping: LocatedDict) -> bool:
        return self._at(*mapping.mark) == "{"

    def _at(self, line: int, column: int) -> str:
        return self._line(line)[column:column + 1]

    def _line(self, number: int) -> str:
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def _blank(self, number: int) -> bool:
        return 0 <= number < len(self.lines) and not self.lines[number].strip()


def _closing_quote(text: str, start: int, quote: str) -> int | None:
    """Just past the quote closing the one at `start`: in double quotes a backslash
    escapes, in single quotes a quote is doubled."""
    at = start + 1
    while at < len(text):
        escaped = (text[at] == "\\" if quote == '"'
                   else text[at] == "'" and text[at + 1:at + 2] == "'")
        if escaped:
            at += 2
        elif text[at] == quote:
            return at + 1
        else:
            at += 1
    return None
