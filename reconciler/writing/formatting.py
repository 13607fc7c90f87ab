"""`reconcile fmt`: a config file in the canonical form `reconcile import` writes, its
comments kept.

The canonical form: each resource's fields in the portal form's order (its number
first), `site:` first in a site file, every other mapping in its model's order;
text double-quoted, numbers and booleans bare (the editor schema's types: so no
`yaml.scalar-type` warning is left); a resource a block mapping, with lists of
values and the mappings inside it (members, a password reference) in flow style;
two-space indents. The order of resources, packages and members is the author's.

ruamel.yaml edits the file in place (its round trip keeps comments). It reads a
bare 0901 as the number 901, as YAML 1.2 does, so every value is taken from this
tool's own reading of the same file (`yaml_reading`), where 0901 is "0901": the
formatted file means what the file meant (`fmt` checks that before writing).
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from reconciler.loading.scalar_styles import (
    Expectation,
    site_file_expectation,
    tenant_file_expectation,
)
from reconciler.loading.yaml_reading import LocatedDict, LocatedList
from reconciler.writing.config_writing import portal_order
from schema import kinds


def site_file(text: str, data: Any) -> str:
    """`text` (a site file), whose data this tool read as `data`, in canonical form."""
    return _formatted(text, data, site_file_expectation(), site=True)


def tenant_file(text: str, data: Any) -> str:
    return _formatted(text, data, tenant_file_expectation(), site=False)


def _formatted(text: str, data: Any, expect: Expectation, site: bool) -> str:
    if not isinstance(data, LocatedDict):
        return text  # empty, or only comments: nothing to put in order
    yaml = _round_trip()
    document = yaml.load(text)
    order = ["site", *kinds.by_list_name()] if site else list(expect.properties)
    _mapping(document, data, expect, order, flow=False)
    if site:
        for list_name, description in kinds.by_list_name().items():
            items = document.get(list_name)
            if isinstance(items, CommentedSeq):
                for item in items:
                    if isinstance(item, CommentedMap):
                        item.fa.set_block_style()
                _reorder_each(items, [description.number_field,
                                      *(name for name in portal_order(description)
                                        if name != description.number_field)])
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _round_trip() -> YAML:
    yaml = YAML()  # round trip: comments, and the order of keys, kept
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a long line
    return yaml


def _value(node: Any, ours: Any, expect: Expectation | None, flow: bool) -> Any:
    """`node` (ruamel's) in canonical form, with the value this tool read (`ours`)."""
    if isinstance(node, CommentedMap) and isinstance(ours, LocatedDict):
        below = expect if expect is not None else Expectation()
        _mapping(node, ours, below, list(below.properties), flow)
        return node
    if isinstance(node, CommentedSeq) and isinstance(ours, LocatedList):
        items = expect.items if expect is not None else None
        for index, item in enumerate(ours):
            node[index] = _value(node[index], item, items, flow=True)
        if all(not isinstance(item, CommentedMap | CommentedSeq) for item in node) \
                and not _commented(node):
            node.fa.set_flow_style()  # a list of values: [a, b]
        else:
            node.fa.set_block_style()
        return node
    return _scalar(ours, expect)


def _mapping(node: CommentedMap, ours: LocatedDict, expect: Expectation, order: list[str],
             flow: bool) -> None:
    for (key, value), (our_key, our_value) in zip(list(node.items()), ours.items(),
                                                   strict=True):
        below = expect.properties.get(our_key, expect.additional)
        node[key] = _value(value, our_value, below, flow or (
            isinstance(value, CommentedMap) and below is not None
            and below.properties.keys() == {"env"}))
    if expect.additional is not None and not expect.properties:
        _quote_keys(node, ours)  # a name -> value map (packages): names are text
    _reorder(node, order)
    if flow and not _commented(node):
        node.fa.set_flow_style()
    else:  # a comment inside stays on its line: a flow mapping would break it up
        node.fa.set_block_style()


def _commented(node: CommentedMap | CommentedSeq) -> bool:
    return any(any(slot is not None for slot in slots) for slots in node.ca.items.values())


def _scalar(ours: Any, expect: Expectation | None) -> Any:
    if expect is None or ours is None or isinstance(ours, bool):
        return ours
    if isinstance(ours, str) and expect.types & {"integer", "number"} \
            and "string" not in expect.types:
        try:
            return int(ours)
        except ValueError:
            try:
                return float(ours)
            except ValueError:
                return DoubleQuotedScalarString(ours)
    return DoubleQuotedScalarString(ours) if isinstance(ours, str) else ours


def _quote_keys(node: CommentedMap, ours: LocatedDict) -> None:
    """The keys as this tool read them, quoted; each with its comments."""
    pairs = list(zip(list(node.keys()), ours.keys(), strict=True))
    comments = node.ca.items
    for old, new in pairs:
        value = node.pop(old)
        quoted = DoubleQuotedScalarString(new)
        node[quoted] = value
        if old in comments:
            comments[quoted] = comments.pop(old)


def _reorder_each(items: CommentedSeq, order: list[str]) -> None:
    for item in items:
        if isinstance(item, CommentedMap):
            _reorder(item, order)


def _reorder(node: CommentedMap, order: list[str]) -> None:
    """Known keys in `order`, then the others as they were; each key's comment on its
    line stays with it, and the comments and blank lines above a key move with it."""
    rank = {name: position for position, name in enumerate(order)}
    keys = list(node.keys())
    wanted = sorted(keys, key=lambda key: rank.get(str(key), len(rank)))
    if wanted == keys:
        return
    # ruamel keeps what follows a key's value (its line's end, then the lines up to the
    # next key) on that key: split it into the key's own line and what precedes the next.
    own, above, columns = {}, {}, {}
    for position, key in enumerate(keys):
        token = node.ca.items.get(key, [None] * 4)[2]
        text = token.value if token is not None else "\n"
        line, _, rest = text.partition("\n")
        own[key] = line + "\n"
        columns[key] = token.column if token is not None else 0
        following = keys[position + 1] if position + 1 < len(keys) else None
        above[following] = rest
    for key in wanted:
        node.move_to_end(key)
    for position, key in enumerate(wanted):
        following = wanted[position + 1] if position + 1 < len(wanted) else None
        text = own[key] + above.get(following, "")
        slots = node.ca.items.setdefault(key, [None] * 4)
        slots[2] = None if text == "\n" else CommentToken(text, CommentMark(columns[key]),
                                                          None)
