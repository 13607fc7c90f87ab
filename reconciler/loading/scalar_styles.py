"""Where a value is written as a YAML type the editor schema does not expect: a warning.

Our loader keeps every plain scalar as the text typed: `extension: 0901` is "0901",
and `button: "1"` becomes 1 where the model wants a number. YAML 1.2 tools read the
same file otherwise: the editors' language server, yq and most libraries take a bare
0901 as the number 901 and a quoted "1" as text. The editor schema then marks the
value, and another tool reading the file would lose the leading zero. So `validate`
says so too, as a warning (`yaml.scalar-type`): a bare number where the schema wants
text, a quoted number where it wants a number. The schema consulted is the committed
editor schema itself (schema/*.schema.json), so the two cannot drift apart.

Most files have nothing to say, and reading runs over every value of a tenant: the
fast YAML path notes, as it goes, a number that could be written as the wrong type
(`yaml_events.StyleWatch`, given `number_keys()`), and only a site file where it
noted one (or that the exact loader read) is walked beside the schema, which decides.
tenant.yaml is small, and its packages map any name to a number: it is always walked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from reconciler.loading.yaml_events import YAML12_NUMBER
from reconciler.loading.yaml_reading import LocatedDict, LocatedList
from schema import rulebook
from schema.locations import Location
from schema.problems import Problem
from schema.schema_files import SITE_FILE, TENANT_FILE

_QUOTES = "\"'|>!"  # a quoted or block scalar, or a tagged one: text to every YAML tool


@dataclass(slots=True)
class Expectation:
    """What the schema allows at one place: its types, and below it."""

    types: frozenset[str] = frozenset()
    properties: dict[str, Expectation] = field(default_factory=dict)
    additional: Expectation | None = None
    items: Expectation | None = None


@dataclass(frozen=True, slots=True)
class _Schema:
    root: Expectation
    #: keys whose values are numbers wherever they appear (`button`, `ring_delay`)
    number_keys: frozenset[str]


def site_file_expectation() -> Expectation:
    """What the editor schema allows in a site file (`formatting` follows it too)."""
    return _schema(SITE_FILE).root


def tenant_file_expectation() -> Expectation:
    return _schema(TENANT_FILE).root


def number_keys() -> frozenset[str]:
    """The keys of a site file whose values are numbers (for `yaml_events.StyleWatch`)."""
    return _schema(SITE_FILE).number_keys


def site_file(data: Any, content: bytes, shown: str) -> list[Problem]:
    """The warnings of a site file; call it where the StyleWatch saw something."""
    return _check(_schema(SITE_FILE), data, content, shown)


def tenant_file(data: Any, content: bytes, shown: str) -> list[Problem]:
    return _check(_schema(TENANT_FILE), data, content, shown)


def _check(schema: _Schema, data: Any, content: bytes, shown: str) -> list[Problem]:
    if not isinstance(data, LocatedDict):
        return []
    lines = content.decode("utf-8", errors="replace").splitlines()
    found: list[Problem] = []
    _visit(schema.root, data, "", lines, shown, found)
    return found


def _visit(expect: Expectation, value: Any, label: str, lines: list[str], shown: str,
           found: list[Problem]) -> None:
    if isinstance(value, LocatedDict):
        for key, item in value.items():
            below = expect.properties.get(key, expect.additional)
            if below is not None:
                _check_scalar(below, item, value.value_marks[key], str(key), lines, shown,
                              found)
                _visit(below, item, str(key), lines, shown, found)
    elif isinstance(value, LocatedList) and expect.items is not None:
        for item, mark in zip(value, value.item_marks, strict=True):
            _check_scalar(expect.items, item, mark, f"a {label} item", lines, shown,
                          found)
            _visit(expect.items, item, label, lines, shown, found)


def _check_scalar(expect: Expectation, value: Any, mark: tuple[int, int], label: str,
                  lines: list[str], shown: str, found: list[Problem]) -> None:
    if not isinstance(value, str) or not YAML12_NUMBER.fullmatch(value):
        return
    line, column = mark
    quoted = line < len(lines) and lines[line][column:column + 1] in _QUOTES
    numbers = bool(expect.types & {"integer", "number"})
    where = Location(shown, line + 1, column + 1)
    if not quoted and "string" in expect.types and not numbers:
        found.append(Problem(
            rulebook.SCALAR_TYPE.id,
            f"warning: {label} {value} is written as a bare number; editors and other "
            "YAML tools read it as a number (a leading zero or + is lost), not the text "
            f'this field holds: quote it, "{value}"', where))
    elif quoted and numbers and "string" not in expect.types:
        found.append(Problem(
            rulebook.SCALAR_TYPE.id,
            f"warning: {label} is written quoted; editors and other YAML tools read it as "
            f"text, not the number this field holds: write {value} without quotes", where))


@cache
def _schema(name: str) -> _Schema:
    document = json.loads(resources.files("schema").joinpath(name).read_text("utf-8"))
    compiled: dict[str, Expectation] = {}
    root = _compile(document, document.get("definitions", {}), compiled)
    number_names: set[str] = set()
    text_names: set[str] = set()
    for expect in _every_node(root):
        for key, below in expect.properties.items():
            if below.types & {"integer", "number"}:
                number_names.add(key)
            if "string" in below.types:
                text_names.add(key)
    return _Schema(root, frozenset(number_names - text_names))


def _every_node(root: Expectation) -> list[Expectation]:
    """`root` and every node below it, each once (definitions are shared, and may refer
    to themselves)."""
    found: list[Expectation] = []
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) not in seen:
            seen.add(id(node))
            found.append(node)
            pending += [below for below in (*node.properties.values(), node.additional,
                                             node.items) if below is not None]
    return found


def _compile(node: dict[str, Any], definitions: dict[str, Any],
             compiled: dict[str, Expectation]) -> Expectation:
    """The schema node as Expectation: `$ref`s followed (each definition compiled once), the
    branches of `anyOf` and `allOf` merged (here they only add null to a type, or are
    `if`/`then` rules, which say nothing of types)."""
    reference = node.get("$ref")
    if reference is not None:
        name = reference.rsplit("/", 1)[-1]
        if name not in compiled:
            compiled[name] = Expectation()  # filled in place: a definition may refer to itself
            _fill(compiled[name], definitions[name], definitions, compiled)
        return compiled[name]
    expect = Expectation()
    _fill(expect, node, definitions, compiled)
    return expect


def _fill(expect: Expectation, node: dict[str, Any], definitions: dict[str, Any],
          compiled: dict[str, Expectation]) -> None:
    types = node.get("type", [])
    expect.types = frozenset([types] if isinstance(types, str) else types)
    for branch in [*node.get("anyOf", []), *node.get("allOf", [])]:
        other = _compile(branch, definitions, compiled)
        expect.types |= other.types
        expect.properties = expect.properties or dict(other.properties)
        expect.additional = expect.additional or other.additional
        expect.items = expect.items or other.items
    for key, below in node.get("properties", {}).items():
        expect.properties[key] = _compile(below, definitions, compiled)
    # a mapping's values: pydantic writes patternProperties where its keys are checked
    for values in [*node.get("patternProperties", {}).values(), node.get("additionalProperties")]:
        if isinstance(values, dict):
            expect.additional = _compile(values, definitions, compiled)
    if isinstance(node.get("items"), dict):
        expect.items = _compile(node["items"], definitions, compiled)
