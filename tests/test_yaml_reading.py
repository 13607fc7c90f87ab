"""YAML is read safely, with positions, and numbers keep the digits the author typed."""

from __future__ import annotations

from pathlib import Path

from reconciler.loading.config_loading import load_config
from reconciler.loading.yaml_reading import read_yaml
from reconciler.runtime.errors import ConfigError
from tests.conftest import WriteTree


def _read(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "f.yaml"
    path.write_text(text)
    return read_yaml(path, "f.yaml")


def test_unquoted_numbers_keep_their_digits(tmp_path: Path) -> None:
    data = _read(tmp_path, "a: 01230\nb: 0901\nc: 010\nd: 1_000\ne: 0x1F\n").data
    # YAML 1.1 would give 664 (octal), 901, 8, 1000 and 31.
    assert dict(data) == {"a": "01230", "b": "0901", "c": "010", "d": "1_000", "e": "0x1F"}


def test_yes_no_on_off_stay_text(tmp_path: Path) -> None:
    data = _read(tmp_path, "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: ~\nh:\n").data
    assert dict(data) == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False,
                          "g": None, "h": None}


def test_dates_and_floats_stay_text(tmp_path: Path) -> None:
    data = _read(tmp_path, "a: 2024-01-03\nb: 6.0\nc: .inf\n").data
    assert dict(data) == {"a": "2024-01-03", "b": "6.0", "c": ".inf"}


def test_duplicate_key_is_a_problem_with_position(tmp_path: Path) -> None:
    result = _read(tmp_path, "users:\n  - extension: '1001'\n    name: A\n    name: B\n")
    assert [str(p) for p in result.problems] == [
        "f.yaml:4:5: key 'name' is written twice in this mapping (first at line 3); YAML "
        "would silently keep the last, so keep one [yaml.duplicate-key]"
    ]


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    result = _read(tmp_path, "a: !!python/object/apply:os.system ['echo hi']\n")
    assert result.data is None
    assert result.problems[0].rule == "yaml.syntax"
    assert str(result.problems[0].location) == "f.yaml:1:4"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    result = read_yaml(path, "f.yaml")
    assert "not UTF-8" in result.problems[0].message


def test_unquoted_extension_in_config_is_the_typed_string(write_tree: WriteTree) -> None:
    sites = write_tree({"Main/u.yaml": """\
        users:
          - extension: 01230
            name: no
            package: Basic
            devices: [1030]
        """})
    config = load_config(sites)
    user = config.declared[0].resource
    assert user.extension == "01230"
    assert user.name == "no"
    assert user.devices == ["1030"]  # type: ignore[union-attr]


def test_unquoted_zero_and_non_zero_numbers_are_different(write_tree: WriteTree) -> None:
    sites = write_tree({"Main/u.yaml": """\
        hot_desk_users:
          - {extension: 0901, name: a, package: Basic}
          - {extension: 901, name: b, package: Basic}
        """})
    assert [d.number for d in load_config(sites).declared] == ["0901", "901"]


def test_yes_in_a_boolean_field_is_refused(write_tree: WriteTree) -> None:
    sites = write_tree({"Main/s.yaml": "shared_lines:\n  - number: '20'\n    forward_to_vm: yes\n"})
    try:
        load_config(sites)
    except ConfigError as error:
        assert [p.rule for p in error.problems] == ["schema.type"]
        assert str(error.problems[0].location).endswith("s.yaml:3:20")
    else:
        raise AssertionError("forward_to_vm: yes was accepted")
