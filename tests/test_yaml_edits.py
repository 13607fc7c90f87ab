"""The smallest text edits: each changes what it names and not one byte more."""

from __future__ import annotations

import pytest

from reconciler.loading.yaml_reading import parse_text
from reconciler.writing.yaml_edits import EditRefused, TextEdits


def _edited(text: str, edit: str, *args: object) -> str:
    data = parse_text(text, "f.yaml").data
    edits = TextEdits(text)
    getattr(edits, edit)(data["users"][0], *args)
    return edits.result()


@pytest.mark.parametrize(("written", "becomes"), [
    ('  - {extension: "1", name: "A \\"B\\" C", devices: []}   # x\n',
     '  - {extension: "1", name: "N", devices: []}   # x\n'),
    ("  - {extension: '1', name: 'it''s', devices: []}\n",
     "  - {extension: '1', name: \"N\", devices: []}\n"),
    ('  - extension: "1"\n    name: plain text   # kept\n    devices: []\n',
     '  - extension: "1"\n    name: "N"   # kept\n    devices: []\n'),
    ('  - extension: "1"\n    name:\n    devices: []\n',
     '  - extension: "1"\n    name: "N"\n    devices: []\n'),
])
def test_a_value_is_replaced_where_it_stands(written: str, becomes: str) -> None:
    assert _edited("users:\n" + written, "replace_value", "name", '"N"') == "users:\n" + becomes


def test_a_block_list_becomes_one_line_and_what_follows_stays() -> None:
    text = ('users:\n  - extension: "1"\n    devices:\n      - "1030"   # desk\n'
            '      - UCE\n\n    # the MAC\n    mac: "001A2B3C4D5E"\n')
    assert _edited(text, "replace_value", "devices", '["1040"]') == (
        'users:\n  - extension: "1"\n    devices: ["1040"]\n\n    # the MAC\n'
        '    mac: "001A2B3C4D5E"\n')


def test_an_item_goes_with_the_comments_above_it_only() -> None:
    text = ('users:\n  # Ann\n  - {extension: "1"}\n\n  # Bob, who leaves\n'
            '  - extension: "2"\n    name: Bob\n\n  # Cid\n  - {extension: "3"}\n')
    data = parse_text(text, "f.yaml").data
    edits = TextEdits(text)
    edits.remove_item(data["users"], 1)
    assert edits.result() == 'users:\n  # Ann\n  - {extension: "1"}\n\n  # Cid\n' \
        '  - {extension: "3"}\n'


def test_items_are_appended_at_the_list_s_own_indentation() -> None:
    text = 'users:\n- extension: "1"\n  name: A\nshared_lines: []\n'
    data = parse_text(text, "f.yaml").data
    edits = TextEdits(text)
    edits.append_items(data["users"], '  - extension: "2"\n    name: "B"\n')
    assert edits.result() == ('users:\n- extension: "1"\n  name: A\n- extension: "2"\n'
                              '  name: "B"\nshared_lines: []\n')


def test_a_flow_list_s_items_are_refused_by_name() -> None:
    text = 'users: [{extension: "1"}, {extension: "2"}]\n'
    data = parse_text(text, "f.yaml").data
    with pytest.raises(EditRefused, match="flow list"):
        TextEdits(text).remove_item(data["users"], 0)
