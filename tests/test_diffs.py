"""The direct differ for the canonical shapes gives exactly what deepdiff gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plans.diffs import _deep_differences, _simple_differences, diff_fields

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(
    ["", "0997", "997", "Ann", "a@b", "common"]))
devices = st.lists(st.sampled_from(["1030", "IP-DECT 110", "iPECS One Premium"]), max_size=3)
member = st.fixed_dictionaries({"button": st.integers(1, 3), "ring_delay": st.sampled_from(
    [0, 3, 6])})
members = st.dictionaries(st.sampled_from(["0901", "0997", "1001", "1002"]), member,
                          max_size=3)
FIELDS = {"name": scalars, "email": scalars, "forward_to_vm": scalars, "devices":
          st.one_of(st.none(), devices), "members": st.one_of(st.none(), members)}


@st.composite
def pairs(draw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, unique=True))
    old = {name: draw(FIELDS[name]) for name in names}
    new = {name: draw(FIELDS[name]) for name in names}
    return old, new


@settings(max_examples=1500, deadline=None)
@given(pairs())
def test_the_direct_differ_agrees_with_deepdiff(pair: tuple[dict[str, Any], dict[str, Any]]
                                                ) -> None:
    old, new = pair
    direct = _simple_differences(old, new)
    assert direct is not None  # every canonical shape is handled directly
    if old != new:
        assert direct == _deep_differences(old, new)
    assert diff_fields(old, new) == (() if old == new else direct)


def test_other_shapes_go_to_deepdiff() -> None:
    assert _simple_differences({"x": {"a": {"b": {"c": 1}}}}, {"x": {"a": {"b": {"c": 2}}}}) \
        is None
    assert diff_fields({"x": [{"a": 1}]}, {"x": [{"a": 2}]})  # answered by deepdiff
