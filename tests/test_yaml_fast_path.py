"""The fast path (located data from libyaml's events) gives what the exact loader
gives, for any file: the same data, the same positions, the same problems. It may
only give up (and let the exact loader read), never differ."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.loading import yaml_events
from reconciler.loading.yaml_reading import LocatedDict, LocatedList, ReadResult, parse_text

#: 600 in CI; FAST_PATH_EXAMPLES=5000 for a longer run
EXAMPLES = int(os.environ.get("FAST_PATH_EXAMPLES", "600"))
TRAPS = ["01230", "0901", "yes", "no", "on", "off", "true", "False", "NULL", "~", "",
         "1e3", "0x1F", "2024-01-01", "12:30", ".inf", "=", "<<", "- a", "a: b", "#x",
         "'q'", '"q"', "!!str 1", "&a 1", "*a", "[1, 2]", "{a: 1}", "|", ">", "%TAG",
         "---", "...", "?", "\t", "é", "\u202e"]

keys = st.sampled_from(["extension", "name", "users", "members", "true", "<<", "01", "a b",
                        "yes", "~", "'k'", "[k]", "? k", "k"])
scalars = st.one_of(st.sampled_from(TRAPS), st.text(max_size=8))


def _document(depth: int = 0) -> st.SearchStrategy[str]:
    indent = "  " * depth
    if depth >= 3:
        return scalars.map(lambda value: f" {value}")
    child = st.deferred(lambda: _document(depth + 1))
    entry = st.tuples(keys, st.one_of(scalars.map(lambda v: f" {v}"),
                                      child.map(lambda c: "\n" + c)))
    mapping = st.lists(entry, min_size=1, max_size=4).map(
        lambda items: "".join(f"{indent}{k}:{v}\n" for k, v in items))
    sequence = st.lists(st.one_of(scalars.map(lambda v: f" {v}"),
                                  child.map(lambda c: "\n" + c)), min_size=1, max_size=3).map(
        lambda items: "".join(f"{indent}-{v}\n" for v in items))
    return st.one_of(mapping, sequence)


documents = st.one_of(
    _document(),
    st.lists(_document(), min_size=2, max_size=3).map("---\n".join),  # several documents
    st.tuples(_document(), st.sampled_from(["&x ", "!!str ", "*x", "!tag ", "<<: *x\n"]))
    .map(lambda parts: parts[0].replace(": ", f": {parts[1]}", 1)),
    st.text(max_size=40),
)


def _shape(data: Any) -> Any:
    """Data with every position it records, to compare the two paths whole."""
    if isinstance(data, LocatedDict):
        return ("map", data.mark, [(key, data.key_marks[key], data.value_marks[key],
                                    _shape(value)) for key, value in data.items()])
    if isinstance(data, LocatedList):
        return ("seq", data.mark, list(zip(data.item_marks, map(_shape, data), strict=True)))
    return (type(data).__name__, data)


def _result(result: ReadResult) -> Any:
    return _shape(result.data), [(p.rule, p.message, str(p.location)) for p in result.problems]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
@example("users:\n  - extension: 01230\n    name: yes\n    enabled: true\n    x: ~\n")
@example("a: 1\na: 2\n")
@example("a: &x 1\nb: *x\n")
@example("a: !!str 1\n")
@example("a: 1\n---\nb: 2\n")
@example("a: [1, 2\n")
@example("? [a]\n: 1\n")
@example("<<: {a: 1}\n")
@example("")
@example("--- 01230\n")
def test_the_fast_path_gives_what_the_exact_loader_gives(text: str) -> None:
    fast = parse_text(text, "f.yaml", fast=True)
    exact = parse_text(text, "f.yaml", fast=False)
    assert _result(fast) == _result(exact)


def test_the_fast_path_reads_the_common_subset_itself() -> None:
    """Not a vacuous pass: ordinary files really take the fast path."""
    text = ('users:\n  - {extension: "0997", name: no, devices: ["1030", iPECS One]}\n'
            "  - extension: 01230\n    name: |\n      text\n    forward_to_vm: false\n")
    data = yaml_events.load(text, "f.yaml", 32, LocatedDict, LocatedList)
    assert data["users"][1]["extension"] == "01230" and data["users"][0]["name"] == "no"
    assert data["users"][1]["forward_to_vm"] is False
    for trap in ("a: &x 1\n", "a: !!str 1\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n",
                 "a: =\n", "<<: {}\n", "? [a]\n: 1\n", "a: [1\n"):
        try:
            yaml_events.load(trap, "f.yaml", 32, LocatedDict, LocatedList)
        except yaml_events.GiveUp:
            continue
        raise AssertionError(f"the fast path read {trap!r} itself")
