"""Located data straight from libyaml's events: the fast path of `yaml_reading`.

PyYAML's C parser emits events with their marks. Building our located mappings
and lists from them skips PyYAML's node tree and its resolver, which is most of
the cost of reading a large tenant (BENCHMARKS.md). The fast path covers the
common subset only: one document of mappings, lists and scalars without tags,
anchors or aliases, plain keys, each once. Anything else (a tag, an anchor, an
alias, a merge key, a complex or repeated key, several documents, a syntax
error, a nesting too deep) makes it give up, and the exact loader reads the file
as before, problems and all. A property test holds the two to the same result.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

_Parser: Any = getattr(yaml, "CSafeLoader", None)

#: Plain scalars that are not text, as the exact loader reads them (YAML 1.2's core
#: booleans and nulls; YAML 1.1's yes/no/on/off, numbers and dates stay text).
_PLAIN: dict[str, Any] = {"true": True, "True": True, "TRUE": True,
                          "false": False, "False": False, "FALSE": False,
                          "null": None, "Null": None, "NULL": None, "~": None, "": None}
#: Plain scalars the exact loader treats specially: give up and let it.
_SPECIAL = {"=", "<<"}


#: YAML 1.2 core schema's numbers (ints, octal 0o, hex 0x, floats, .inf, .nan): what
#: editors and most YAML tools read a plain scalar as, where our loaders keep text.
YAML12_NUMBER = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_NUMBER_START = "0123456789+-."


class StyleWatch:
    """Asks the fast path to note, on its way, a number whose YAML type may differ from
    the schema's (`reconciler.loading.scalar_styles` then walks the file and decides): a bare one
    not under a key of `number_keys`, or a quoted one under such a key. `seen` is also
    set when the exact loader read the file, which notes nothing."""

    __slots__ = ("number_keys", "seen")

    def __init__(self, number_keys: frozenset[str]) -> None:
        self.number_keys = number_keys
        self.seen = False


class GiveUp(Exception):
    """Outside the fast path's subset: read the file with the exact loader."""


def available() -> bool:
    return _Parser is not None


def load(text: str, file: str, max_depth: int, dict_type: Any, list_type: Any,
         watch: StyleWatch | None = None) -> Any:
    """The document's located data, or GiveUp. `dict_type(file, mark)` and
    `list_type(file, mark)` make the located containers (yaml_reading's)."""
    loader = _Parser(text)
    try:
        return _build(loader.get_event, file, max_depth, dict_type, list_type, watch)
    except yaml.YAMLError as error:
        raise GiveUp from error
    finally:
        loader.dispose()


def _build(next_event: Any, file: str, max_depth: int, dict_type: Any, list_type: Any,
           watch: StyleWatch | None) -> Any:
    """One pass over the events. The open container and its pending key live in local
    variables (the enclosing ones on `saved`): this loop runs for every scalar of a
    tenant, so it does as little per event as it can."""
    if type(next_event()) is not StreamStartEvent:
        raise GiveUp
    event = next_event()
    if type(event) is StreamEndEvent:
        return None  # an empty file
    if type(event) is not DocumentStartEvent:
        raise GiveUp
    scalar, mapping_start, sequence_start = ScalarEvent, MappingStartEvent, SequenceStartEvent
    mapping_end, sequence_end = MappingEndEvent, SequenceEndEvent
    plain, special, no_key = _PLAIN, _SPECIAL, _NO_KEY
    saved: list[tuple[Any, bool, Any]] = []  # the enclosing containers
    container: Any = None  # the open container; None at the top
    in_mapping = False
    key: Any = no_key  # a mapping's key waiting for its value
    key_position: Any = None
    key_marks: Any = None
    value_marks: Any = None
    item_marks: Any = None
    root: Any = None
    number_keys = watch.number_keys if watch is not None else None
    number_start, number = _NUMBER_START, YAML12_NUMBER.fullmatch
    suspect = False
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None or event.tag is not None:
                raise GiveUp
            value: Any = event.value
            if event.implicit[0]:  # plain: resolved as the exact loader does
                if value in plain:
                    value = plain[value]
                elif value in special:
                    raise GiveUp
            mark = event.start_mark
            if in_mapping:
                if key is no_key:  # this scalar is a key
                    if value is None or value in container:
                        raise GiveUp  # a null or repeated key
                    key, key_position = value, (mark.line, mark.column)
                else:
                    if number_keys is not None and value.__class__ is str \
                            and value[:1] in number_start and number(value) \
                            and (key in number_keys) != bool(event.implicit[0]):
                        suspect = True  # bare where text belongs, or quoted where a number
                    container[key] = value
                    key_marks[key] = key_position
                    value_marks[key] = (mark.line, mark.column)
                    key = no_key
            elif container is not None:
                if number_keys is not None and event.implicit[0] \
                        and value.__class__ is str and value[:1] in number_start \
                        and number(value):
                    suspect = True  # no list holds numbers
                container.append(value)
                item_marks.append((mark.line, mark.column))
            else:
                root = value
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(saved) >= max_depth:
                raise GiveUp
            mark = event.start_mark
            position = (mark.line, mark.column)
            opened = (dict_type if kind is mapping_start else list_type)(file, position)
            if in_mapping:
                if key is no_key:
                    raise GiveUp  # a mapping or list as a key
                container[key] = opened
                key_marks[key] = key_position
                value_marks[key] = position
                key = no_key
            elif container is not None:
                container.append(opened)
                item_marks.append(position)
            else:
                root = opened
            saved.append((container, in_mapping, key_position))
            container, in_mapping = opened, kind is mapping_start
            if in_mapping:
                key_marks, value_marks = opened.key_marks, opened.value_marks
            else:
                item_marks = opened.item_marks
        elif kind is mapping_end or kind is sequence_end:
            if key is not no_key:
                raise GiveUp  # cannot happen in well-formed events; be safe
            container, in_mapping, key_position = saved.pop()
            if in_mapping:
                key_marks, value_marks = container.key_marks, container.value_marks
            elif container is not None:
                item_marks = container.item_marks
        elif kind is DocumentEndEvent:
            if saved:
                raise GiveUp
            if type(next_event()) is not StreamEndEvent:
                raise GiveUp  # several documents
            if watch is not None:
                watch.seen = watch.seen or suspect
            return root
        else:  # an alias, or anything unexpected
            raise GiveUp


class _NoKey:
    __slots__ = ()


_NO_KEY = _NoKey()

__all__ = ["YAML12_NUMBER", "GiveUp", "StyleWatch", "available", "load"]
