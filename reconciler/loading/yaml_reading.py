"""Safe YAML that remembers where everything was written and keeps numbers as typed.

Three departures from PyYAML's SafeLoader, each a bug report waiting to happen:
- Scalars YAML 1.1 would turn into numbers, dates or booleans stay the text the
  author typed. `extension: 01230` is "01230", never 664 (octal) or 1230, and
  `name: no` is "no". Only true/false become booleans and only null/~/empty
  become None, as in YAML 1.2's core schema. Pydantic then converts "30" to 30
  where a field is an integer.
- A key written twice in one mapping is reported, not silently last-wins.
- Every mapping and list records the line and column of its keys and items.

The C parser (libyaml) is used when PyYAML was built with it: it is several
times faster on large tenants, and our constructors run on top of either.

Input is bounded, each limit a located problem (`config.limits`): a file is at
most MAX_FILE_BYTES, nested at most MAX_DEPTH deep, and its aliases may add at
most MAX_ALIAS_VALUES values when expanded (the "billion laughs"). Merge keys
(`<<`) are refused outright (`yaml.merge-key`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.loading import yaml_events, yaml_messages
from schema import rulebook
from schema.declarations import Path
from schema.locations import Location
from schema.problems import Problem

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_ALIAS_VALUES = 10_000
_MERGE_TAG = "tag:yaml.org,2002:merge"

_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class LocatedDict(dict[Any, Any]):
    """A mapping that knows where it, its keys and its values were written."""

    __slots__ = ("file", "key_marks", "mark", "value_marks")

    def __init__(self, file: str, mark: tuple[int, int]) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.key_marks: dict[Any, tuple[int, int]] = {}
        self.value_marks: dict[Any, tuple[int, int]] = {}

    def locate(self, path: Path = (), key: bool = False) -> Location:
        return _locate(self, path, key)


class LocatedList(list[Any]):
    __slots__ = ("file", "item_marks", "mark")

    def __init__(self, file: str, mark: tuple[int, int]) -> None:
        super().__init__()
        self.file = file
        self.mark = mark
        self.item_marks: list[tuple[int, int]] = []

    def locate(self, path: Path = (), key: bool = False) -> Location:
        return _locate(self, path, key)


def _locate(node: LocatedDict | LocatedList, path: Path, key: bool) -> Location:
    """The position of `path` below `node`, or of the deepest part of it that exists.

    With `key`, the last step points at the mapping key rather than its value:
    that is where an unknown field is best shown.
    """
    mark = node.mark
    current: Any = node
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        if isinstance(current, LocatedDict) and step in current:
            marks = current.key_marks if (key and last) else current.value_marks
            mark = marks[step]
            current = current[step]
        elif isinstance(current, LocatedList) and isinstance(step, int) and step < len(current):
            mark = current.item_marks[step]
            current = current[step]
        else:
            break
    return Location(node.file, mark[0] + 1, mark[1] + 1)


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line, node.start_mark.column)


class LocatedLoader(_BaseLoader):  # type: ignore[misc]
    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.problems: list[Problem] = []
        self._depth = 0
        self._alias_values = 0
        self._sizes: dict[int, int] = {}

    def _problem(self, rule: rulebook.Rule, message: str, mark: tuple[int, int]) -> None:
        where = Location(self.file, mark[0] + 1, mark[1] + 1)
        self.problems.append(Problem(rule.id, message, where))

    def _construct(self, node: Node) -> Any:
        """A fast path for plain scalars, the bulk of a tenant's YAML: PyYAML's
        construct_object bookkeeping (anchors, recursion) only matters for
        collections and custom tags. Measured in BENCHMARKS.md."""
        if isinstance(node, ScalarNode):
            scalar = _SCALARS.get(node.tag)
            if scalar is not None:
                return scalar(node.value)
        elif node in self.constructed_objects and not self._within_alias_budget(node):
            return None  # an alias again: what it adds is counted, up to the budget
        return self.construct_object(node, deep=True)

    def _within_alias_budget(self, node: Node) -> bool:
        if self._alias_values > MAX_ALIAS_VALUES:
            return False
        self._alias_values += _size(node, self._sizes)
        if self._alias_values > MAX_ALIAS_VALUES:
            self._problem(rulebook.CONFIG_LIMITS,
                          f"aliases here expand to more than {MAX_ALIAS_VALUES:,} values; write "
                          "the values out, or use fewer aliases", _mark(node))
            return False
        return True

    def _deeper(self, node: Node) -> bool:
        """Enter one more level of nesting, unless that is too deep (then say so)."""
        if self._depth >= MAX_DEPTH:
            self._problem(rulebook.CONFIG_LIMITS,
                          f"nested more than {MAX_DEPTH} levels deep; a config needs at most 6",
                          _mark(node))
            return False
        self._depth += 1
        return True

    def construct_located_mapping(self, node: MappingNode) -> LocatedDict:
        data = LocatedDict(self.file, _mark(node))
        if not self._deeper(node):
            return data
        try:
            self._fill_mapping(node, data)
        finally:
            self._depth -= 1
        return data

    def _fill_mapping(self, node: MappingNode, data: LocatedDict) -> None:
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._problem(
                    rulebook.YAML_MERGE_KEY,
                    "YAML merge keys (<<) are not supported: write the fields out in this "
                    "entry (an alias for a whole value, such as `members: *team`, is fine)",
                    _mark(key_node))
                continue
            key = self._construct(key_node)
            if not isinstance(key, str | int | bool) or key is None:
                self._problem(rulebook.WRONG_TYPE, "a mapping key must be plain text",
                              _mark(key_node))
                continue
            if key in data:
                first = data.key_marks[key]
                self._problem(
                    rulebook.YAML_DUPLICATE_KEY,
                    f"key '{key}' is written twice in this mapping (first at line "
                    f"{first[0] + 1}); YAML would silently keep the last, so keep one",
                    _mark(key_node),
                )
                continue
            data[key] = self._construct(value_node)
            data.key_marks[key] = _mark(key_node)
            data.value_marks[key] = _mark(value_node)

    def construct_located_sequence(self, node: SequenceNode) -> LocatedList:
        data = LocatedList(self.file, _mark(node))
        if not self._deeper(node):
            return data
        try:
            for item in node.value:
                data.append(self._construct(item))
                data.item_marks.append(_mark(item))
        finally:
            self._depth -= 1
        return data

    def construct_as_typed(self, node: ScalarNode) -> str:
        return str(node.value)

    def construct_bool_or_text(self, node: ScalarNode) -> bool | str:
        return _bool_or_text(str(node.value))


def _size(node: Node, sizes: dict[int, int]) -> int:
    """How many values `node` holds, counting shared nodes each time they appear
    (memoised, so a blown-up graph is still measured in linear time). Nesting is
    bounded by libyaml (1,000 levels), well inside Python's recursion limit."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, MappingNode):
        total = 1 + sum(_size(k, sizes) + _size(v, sizes) for k, v in node.value)
    elif isinstance(node, SequenceNode):
        total = 1 + sum(_size(item, sizes) for item in node.value)
    else:
        total = 1
    sizes[id(node)] = total
    return total


def _text(value: str) -> str:
    return value


def _bool_or_text(value: str) -> bool | str:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return value


def _null(value: str) -> None:
    return None


_SCALARS: dict[str, Callable[[str], Any]] = {
    "tag:yaml.org,2002:str": _text,
    "tag:yaml.org,2002:int": _text,
    "tag:yaml.org,2002:float": _text,
    "tag:yaml.org,2002:timestamp": _text,
    "tag:yaml.org,2002:bool": _bool_or_text,
    "tag:yaml.org,2002:null": _null,
}

LocatedLoader.add_constructor("tag:yaml.org,2002:map", LocatedLoader.construct_located_mapping)
LocatedLoader.add_constructor("tag:yaml.org,2002:seq", LocatedLoader.construct_located_sequence)
LocatedLoader.add_constructor("tag:yaml.org,2002:bool", LocatedLoader.construct_bool_or_text)
for _tag in ("int", "float", "timestamp"):
    LocatedLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", LocatedLoader.construct_as_typed)


class ReadResult:
    """What reading one file gave: its data (None if unreadable), any problems, and
    its bytes, so callers can fingerprint exactly what was read."""

    __slots__ = ("content", "data", "problems")

    def __init__(self, data: Any, problems: list[Problem], content: bytes = b"") -> None:
        self.data = data
        self.problems = problems
        self.content = content


def read_yaml(path: FilePath, shown_as: str) -> ReadResult:
    """Parse one file; syntax errors and duplicate keys come back as problems."""
    content = read_content(path, shown_as)
    return content if isinstance(content, ReadResult) else parse_content(content, shown_as)


def read_content(path: FilePath, shown_as: str) -> bytes | ReadResult:
    """The file's bytes, or a ReadResult holding the problem that kept them unread."""
    try:
        return _read_bounded(path)
    except _Refused as refusal:
        return ReadResult(None, [Problem(refusal.rule.id, str(refusal), Location(shown_as))])
    except OSError as error:
        return ReadResult(None, [Problem(rulebook.CONFIG_LAYOUT.id,
                                         f"cannot read file: {error.strerror}",
                                         Location(shown_as))])


def parse_content(content: bytes, shown_as: str,
                  watch: yaml_events.StyleWatch | None = None, fast: bool = True
                  ) -> ReadResult:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"file is not UTF-8 text ({error.reason}); save it as UTF-8"
        return ReadResult(None, [Problem(rulebook.YAML_SYNTAX.id, message, Location(shown_as))])
    return parse_text(text, shown_as, content, fast, watch)


def parse_text(text: str, shown_as: str, content: bytes = b"", fast: bool = True,
               watch: yaml_events.StyleWatch | None = None) -> ReadResult:
    """Located data from YAML text: libyaml's events for the common subset (fast),
    else the exact loader. `fast=False` forces the exact loader (the property test
    holds both to one result). `watch`: see `yaml_events.StyleWatch`."""
    if fast and yaml_events.available():
        try:
            fast = yaml_events.load(text, shown_as, MAX_DEPTH, LocatedDict, LocatedList,
                                    watch)
        except yaml_events.GiveUp:
            pass  # outside the common subset: the exact loader says what it is
        else:
            return ReadResult(fast, [], content)
    if watch is not None:
        watch.seen = True  # the exact loader notes nothing: let the walk decide
    loader = LocatedLoader(text, shown_as)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.problem == "found unexpected end of stream" and error.context_mark:
            mark = error.context_mark  # where the unclosed quote opened
        where = Location(shown_as, mark.line + 1, mark.column + 1) if mark else Location(shown_as)
        character = _character_at(text, mark.line, mark.column) if mark else ""
        message = yaml_messages.plain(error.problem, error.context, character)
        return ReadResult(None, [Problem(rulebook.YAML_SYNTAX.id, message, where)], content)
    except yaml.YAMLError as error:
        return ReadResult(None, [Problem(rulebook.YAML_SYNTAX.id, f"invalid YAML: {error}",
                                         Location(shown_as))], content)
    finally:
        loader.dispose()
    return ReadResult(data, loader.problems, content)


def _character_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


class _Refused(Exception):
    def __init__(self, rule: rulebook.Rule, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def _read_bounded(path: FilePath) -> bytes:
    """The file's bytes, if it is a regular file within the size limit. Opened without
    blocking, so a FIFO put in place of a file is refused instead of hanging us."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(rulebook.CONFIG_LAYOUT, "is not a regular file (a FIFO, socket or "
                                                   "device); only YAML files belong here")
        content = handle.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise _Refused(rulebook.CONFIG_LIMITS,
                       f"file is over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit for one "
                       "config file; split it into several files in the site folder")
    return content
