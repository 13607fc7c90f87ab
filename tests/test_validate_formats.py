"""`validate --format`: problems where CI systems and reviewers look for them."""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

from schema.rulebook import RULES
from tests.conftest import REPO, Run, WriteTree
from tests.standards import sarif_validator

BAD = 'users:\n  - {extension: "1001", name: A, package: Basic, devices: ["1030"], colour: red}\n'
GOOD = 'users:\n  - {extension: "1002", name: B, package: Basic, devices: ["1030"]}\n'


def test_github_annotates_the_lines_and_keeps_the_plain_ones(run: Run,
                                                             write_tree: WriteTree) -> None:
    write_tree({"Main/a,b%.yaml": BAD, "Main/empty.yaml": "users: []\n"})
    result = run("validate", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::warning file=sites/Main/empty.yaml,line=1,col=1,title=config.empty-file::this site "
        "file declares nothing; an emptied or truncated file deletes what it held (removing "
        "every managed resource of a kind from a site needs --force); delete the file if that "
        "is meant",
        "::error file=sites/Main/a%2Cb%25.yaml,line=2,col=69,title=schema.unknown-field::unknown "
        "field 'colour'; allowed: extension, name, package, portal_id, email, "
        "direct_dial_number, call_barring, outgoing_caller_id, group_member_type, aad_id, "
        "password, password_rotation, previous_extension, devices, mac"]
    assert "sites/Main/a,b%.yaml:2:69: unknown field 'colour'" in result.stderr
    assert result.stderr.rstrip().endswith("error: 1 problem found in the configuration")


def test_json_for_other_ci_systems(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/users.yaml": BAD})
    bad = run("validate", "--format", "json")
    assert bad.exit_code == 1
    document = json.loads(bad.stdout)
    assert document["valid"] is False and document["format_version"] == 1
    assert document["problems"] == [{
        "rule": "schema.unknown-field", "severity": "error", "path": "sites/Main/users.yaml",
        "line": 2, "column": 69, "rule_summary": "Only known fields are accepted.",
        "message": document["problems"][0]["message"]}]
    write_tree({"Main/users.yaml": GOOD, "Branch/users.yaml": GOOD.replace("1002", "2002")})
    good = run("validate", "--format", "json")
    assert good.exit_code == 0
    assert json.loads(good.stdout) == {"format_version": 1, "valid": True, "problems": [],
                                       "warnings": [], "resources": 2,
                                       "sites": {"Branch": 1, "Main": 1}}


def test_gitlab_code_quality_keeps_a_problem_s_fingerprint_when_lines_move(
        run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": BAD})
    first = json.loads(run("validate", "--format", "gitlab-codequality").stdout)
    (sites / "Main" / "users.yaml").write_text("# a comment moves it down\n" + BAD)
    moved = run("validate", "--format", "gitlab-codequality")
    assert moved.exit_code == 1
    second = json.loads(moved.stdout)
    assert [issue["location"] for issue in (first[0], second[0])] == [
        {"path": "sites/Main/users.yaml", "lines": {"begin": 2}},
        {"path": "sites/Main/users.yaml", "lines": {"begin": 3}}]
    assert first[0]["fingerprint"] == second[0]["fingerprint"]
    assert first[0]["severity"] == "major" and first[0]["check_name"] == "schema.unknown-field"
    # the report goes to a file; the job's log still shows the problem
    assert "sites/Main/users.yaml:3:" in moved.stderr and "[schema.unknown-field]" in moved.stderr


def test_the_problem_matcher_reads_the_plain_lines(run: Run, write_tree: WriteTree) -> None:
    matcher = json.loads((REPO / "examples/ci/github/problem-matcher.json").read_text())
    pattern = matcher["problemMatcher"][0]["pattern"][0]
    regexp = re.compile(pattern["regexp"])
    sites = write_tree({"Main/users.yaml": GOOD, "Main/empty.yaml": "users: []\n"})
    warned = run("validate").stderr.splitlines()
    (sites / "Main" / "users.yaml").write_text(BAD)
    failed = run("validate").stderr.splitlines()
    found = [(m[pattern["file"]], m[pattern["line"]], m[pattern["severity"]], m[pattern["code"]])
             for m in map(regexp.match, warned + failed) if m]
    assert found == [("sites/Main/empty.yaml", "1", "warning", "config.empty-file"),
                     ("sites/Main/users.yaml", "2", None, "schema.unknown-field")]
    assert failed[-1].startswith("error:") and not regexp.match(failed[-1])


def test_a_valid_tree_in_text_is_unchanged(run: Run, write_tree: WriteTree,
                                           tmp_path: Path) -> None:
    write_tree({"Main/users.yaml": GOOD})
    result = run("validate")
    assert result.exit_code == 0
    assert result.stdout == "sites: valid (1 resources in 1 site(s)).\n  Main: 1 file(s), " \
        "1 resource(s)\n"


def test_gitlab_fingerprints_are_one_per_mistake_and_ignore_other_places_lines(
        run: Run, write_tree: WriteTree) -> None:
    """Three identical mistakes at three places are three issues; a message naming
    another place ("also at FILE:LINE") keeps its fingerprint when that place moves."""
    same = "".join(f'  - {{extension: "10{n}", name: A, package: Basic, devices: ["1030"], '
                   "colour: red}\n" for n in (11, 12, 13))
    sites = write_tree({"Main/users.yaml": "users:\n" + same,
                        "Main/twin.yaml": GOOD, "Branch/users.yaml": GOOD})
    report = json.loads(run("validate", "--format", "gitlab-codequality").stdout)
    unknown = [i["fingerprint"] for i in report if i["check_name"] == "schema.unknown-field"]
    assert len(unknown) == 3 and len(set(unknown)) == 3
    twins = [i for i in report if i["check_name"] == "numbering.duplicate"]
    assert twins and ":2" in twins[0]["description"]  # names the other place, with its line
    (sites / "Branch" / "users.yaml").write_text("# moved down\n\n" + GOOD)
    (sites / "Main" / "users.yaml").write_text("# moved down\nusers:\n" + same)
    again = json.loads(run("validate", "--format", "gitlab-codequality").stdout)
    assert sorted(i["fingerprint"] for i in again) == sorted(i["fingerprint"] for i in report)


def test_sarif_is_a_valid_log_with_one_located_result_per_problem(
        run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/a b,é.yaml": BAD, "Main/empty.yaml": "users: []\n",
                "Branch/users.yaml": GOOD})
    result = run("validate", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    sarif_validator().validate(log)
    assert log["version"] == "2.1.0"
    (the_run,) = log["runs"]
    rules = the_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert all(r["shortDescription"]["text"] == RULES[r["id"]].summary for r in rules)
    found = []
    for item in the_run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        (place,) = item["locations"]
        where = place["physicalLocation"]
        assert where["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert " " not in where["artifactLocation"]["uri"]  # a URI: the space is escaped
        found.append((item["level"], item["ruleId"],
                      urllib.parse.unquote(where["artifactLocation"]["uri"]),
                      where["region"]["startLine"], where["region"]["startColumn"]))
    assert found == [
        ("warning", "config.empty-file", "sites/Main/empty.yaml", 1, 1),
        ("error", "schema.unknown-field", "sites/Main/a b,é.yaml", 2, 69)]
    # the same place as the plain line the job's log shows
    assert "sites/Main/a b,é.yaml:2:69: unknown field 'colour'" in result.stderr


def test_sarif_fingerprints_survive_moved_lines_and_a_valid_tree_has_no_results(
        run: Run, write_tree: WriteTree) -> None:
    sites = write_tree({"Main/users.yaml": BAD})
    first = json.loads(run("validate", "--format", "sarif").stdout)["runs"][0]["results"]
    (sites / "Main" / "users.yaml").write_text("# a comment moves it down\n" + BAD)
    second = json.loads(run("validate", "--format", "sarif").stdout)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"]
            for r in (first[0], second[0])] == [2, 3]
    assert first[0]["partialFingerprints"] == second[0]["partialFingerprints"]
    (sites / "Main" / "users.yaml").write_text(GOOD)
    good = run("validate", "--format", "sarif")
    assert good.exit_code == 0
    log = json.loads(good.stdout)
    sarif_validator().validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_names_a_tree_outside_the_working_folder_by_a_file_uri(
        run: Run, write_tree: WriteTree, tmp_path_factory: pytest.TempPathFactory) -> None:
    sites = tmp_path_factory.mktemp("elsewhere") / "sites"
    shutil.move(write_tree({"Main/users.yaml": BAD}), sites)
    log = json.loads(run("validate", "--format", "sarif", str(sites)).stdout)
    sarif_validator().validate(log)
    (result,) = log["runs"][0]["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (sites / "Main" / "users.yaml").as_uri()}
