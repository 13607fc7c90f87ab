"""The editor schema and `validate` say the same of every file of one corpus.

tests/fixtures/schema_agreement/README.md says what each folder expects. The schema
side is what an editor does: the file read as YAML 1.2 (ruamel.yaml, as the YAML
language server reads it: a bare 0901 is the number 901), checked by jsonschema
against the committed schema. The validate side is the command, on a tree holding
the file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import ruamel.yaml
from jsonschema import Draft7Validator

from reconciler.loading import scalar_styles, yaml_events
from reconciler.loading.yaml_reading import LocatedDict, LocatedList, parse_content
from schema.rulebook import RULES
from tests.conftest import REPO, Run, WriteTree

CORPUS = REPO / "tests" / "fixtures" / "schema_agreement"
SCHEMAS = {which: Draft7Validator(json.loads((REPO / "schema" / f"{which}-file.schema.json")
                                             .read_text()))
           for which in ("site", "tenant")}
EXPECTATIONS = ("accepted", "refused", "warned", "validate_only")
CASES = sorted(CORPUS.glob("*/*/*.yaml"))


def _editor_errors(which: str, text: str) -> list[str]:
    """What an editor marks: a file that does not parse, or the schema's errors."""
    try:
        document: Any = ruamel.yaml.YAML(typ="safe", pure=True).load(io.StringIO(text))
    except ruamel.yaml.YAMLError as error:
        return [f"does not parse: {error}"]
    return [error.message for error in SCHEMAS[which].iter_errors(document)]


def _validate(run: Run, write_tree: WriteTree, which: str, text: str
              ) -> tuple[int, list[str], str]:
    """validate's exit code, its lines about this file, and all it wrote on stderr."""
    if which == "site":
        write_tree({"Main/case.yaml": text})
        shown = "sites/Main/case.yaml"
    else:
        write_tree({}, tenant=text)
        shown = "sites/tenant.yaml"
    result = run("validate", "--no-cache")
    return result.exit_code, [line for line in result.stderr.splitlines()
                              if line.startswith(shown + ":")], result.stderr


def test_the_corpus_has_every_kind_of_case() -> None:
    assert {case.parent.name for case in CASES} == set(EXPECTATIONS)
    assert {case.parent.parent.name for case in CASES} == {"site", "tenant"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: "/".join(c.parts[-3:]))
def test_the_editor_schema_and_validate_agree(case: Path, run: Run,
                                              write_tree: WriteTree) -> None:
    which, expected, text = case.parent.parent.name, case.parent.name, case.read_text()
    marked = _editor_errors(which, text)
    code, lines, _ = _validate(run, write_tree, which, text)
    warnings = [line for line in lines if "warning:" in line]
    problems = [line for line in lines if "warning:" not in line]
    if expected == "accepted":
        assert marked == []
        assert code == 0 and problems == []
        assert all("[config.empty-file]" in line for line in warnings), warnings
    elif expected == "refused":
        assert marked, "the editor schema accepts it"
        assert code == 1 and problems, lines
    elif expected == "warned":
        assert marked, "the editor schema accepts it"
        assert code == 0 and problems == [], lines
        assert any("[yaml.scalar-type]" in line for line in warnings), lines
    else:
        assert marked == [] and code == 1 and problems, (marked, lines)


def test_every_single_file_rule_is_in_the_corpus(run: Run, write_tree: WriteTree) -> None:
    """A rule validate checks within one file has a refused (or validate-only) case that
    breaks it, so a rule added to the models without its schema shows up here."""
    single_file = {"schema.unknown-field", "schema.missing-field", "schema.type",
                   "yaml.duplicate-key", "field.text", "field.range", "numbering.format",
                   "field.phone-number", "user.name", "user.email-format",
                   "user.portal-id-format", "user.devices", "secrets.inline-password",
                   "secrets.env-prefix", "user.device-combination", "user.mac-required",
                   "user.mac-without-phone", "user.mac-format", "hot_desk.no-device",
                   "shared_line.ring-delay", "shared_line.button",
                   "membership.duplicate-member", "secrets.rotation-without-password",
                   "tenant.platform-version", "yaml.scalar-type"}
    assert single_file <= set(RULES)
    broken: set[str] = set()
    for case in CASES:
        if case.parent.name != "accepted":
            *_, stderr = _validate(run, write_tree, case.parent.parent.name, case.read_text())
            broken |= {rule for rule in RULES if f"[{rule}]" in stderr}
    missing = sorted(single_file - broken)
    assert missing == [], f"no case breaks {missing}"


@pytest.mark.parametrize("case", [c for c in CASES if c.parent.parent.name == "site"],
                         ids=lambda c: "/".join(c.parts[-2:]))
def test_the_fast_path_notes_every_file_the_walk_would_warn_about(case: Path) -> None:
    """validate walks a site file beside the schema only where the fast YAML path noted a
    number that may be written as the wrong type: it must note every file the walk
    would warn about, and not the files with nothing to say."""
    content = case.read_bytes()
    watch = yaml_events.StyleWatch(scalar_styles.number_keys())
    data = parse_content(content, "case.yaml", watch).data
    walked = scalar_styles.site_file(data, content, "case.yaml")
    assert watch.seen or not walked
    if case.parent.name == "accepted" and _fast_path_reads(content):  # nothing to say
        assert not watch.seen


def _fast_path_reads(content: bytes) -> bool:
    try:
        yaml_events.load(content.decode(), "case.yaml", 32, LocatedDict, LocatedList)
    except yaml_events.GiveUp:
        return False
    return True


def test_a_warned_file_warns_on_every_run_with_the_cache(run: Run, write_tree: WriteTree
                                                         ) -> None:
    """A file with a warning is never kept in the cache of validated files: the second
    run reads it again and still says so."""
    text = (CORPUS / "site" / "warned" / "bare-extension.yaml").read_text()
    write_tree({"Main/case.yaml": text, "Main/other.yaml": "users: []\n"})
    for _ in range(2):
        result = run("validate", "--verbose")
        assert result.exit_code == 0
        assert "sites/Main/case.yaml:2:17: warning: extension 1001 is written as a bare " \
            "number" in result.stderr
