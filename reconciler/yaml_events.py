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

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
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


class GiveUp(Exception):
    """Outside the fast path's subset: read the file with the exact loader."""


def available() -> bool:
    return _Parser is not None


def load(text: str, file: str, max_depth: int, dict_type: Any, list_type: Any) -> Any:
    """The document's located data, or GiveUp. `dict_type(file, mark)` and
    `list_type(file, mark)` make the located containers (yaml_reading's)."""
    loader = _Parser(text)
    try:
        return _build(loader.get_event, file, max_depth, dict_type, list_type)
    except yaml.YAMLError as error:
        raise GiveUp from error
    finally:
        loader.dispose()


def _build(next_event: Any, file: str, max_depth: int, dict_type: Any, list_type: Any
           ) -> Any:
    if type(next_event()) is not StreamStartEvent:
        raise GiveUp
    event = next_event()
    if type(event) is StreamEndEvent:
        return None  # an empty file
    if type(event) is not DocumentStartEvent:
        raise GiveUp
    # A stack of open containers: [container, is_mapping, pending key, key mark].
    stack: list[list[Any]] = []
    root: Any = None
    scalar, mapping_start, sequence_start = ScalarEvent, MappingStartEvent, SequenceStartEvent
    mapping_end, sequence_end = MappingEndEvent, SequenceEndEvent
    while True:
        event = next_event()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None or event.tag is not None:
                raise GiveUp
            text = event.value
            if event.implicit[0]:  # plain: resolved as the exact loader does
                if text in _PLAIN:
                    value: Any = _PLAIN[text]
                elif text in _SPECIAL:
                    raise GiveUp
                else:
                    value = text
            else:
                value = text
            mark = event.start_mark
            position = (mark.line, mark.column)
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag is not None or len(stack) >= max_depth:
                raise GiveUp
            mark = event.start_mark
            position = (mark.line, mark.column)
            is_mapping = kind is mapping_start
            value = (dict_type if is_mapping else list_type)(file, position)
        elif kind is mapping_end or kind is sequence_end:
            done = stack.pop()
            if done[1] and done[2] is not _NO_KEY:
                raise GiveUp  # cannot happen in well-formed events; be safe
            if not stack:
                root = done[0]
            continue
        elif kind is DocumentEndEvent:
            if stack:
                raise GiveUp
            if type(next_event()) is not StreamEndEvent:
                raise GiveUp  # several documents
            return root
        else:  # an alias, or anything unexpected
            raise GiveUp
        # place the value in the open container
        if stack:
            top = stack[-1]
            container = top[0]
            if top[1]:
                if top[2] is _NO_KEY:  # this value is a key
                    if kind is not scalar or value is None or value in container:
                        raise GiveUp  # complex, null or repeated key
                    top[2], top[3] = value, position
                else:
                    key = top[2]
                    container[key] = value
                    container.key_marks[key] = top[3]
                    container.value_marks[key] = position
                    top[2] = _NO_KEY
            else:
                container.append(value)
                container.item_marks.append(position)
        elif kind is scalar:
            root = value
        if kind is mapping_start or kind is sequence_start:
            stack.append([value, kind is mapping_start, _NO_KEY, None])


class _NoKey:
    __slots__ = ()


_NO_KEY = _NoKey()

__all__ = ["AliasEvent", "GiveUp", "available", "load"]
