"""`validate --format F`: problems where CI systems and reviewers look for them.

    text                  `path:line:col: message [rule]` lines on stderr (the default)
    github                the same lines, plus one `::error file=...,line=...::` workflow
                          command each on stdout: GitHub shows them on the diff lines
                          (only the first 10 per step, hence the plain lines too)
    json                  one document on stdout, for any other CI system
    gitlab-codequality    a Code Quality report on stdout (GitLab's merge-request widget),
                          and the plain lines on stderr, for the job's log
    sarif                 a SARIF 2.1.0 log on stdout (GitHub code scanning, editors'
                          SARIF viewers), and the plain lines on stderr

Each takes the problems and warnings found and returns (stdout, stderr).
"""

from __future__ import annotations

import hashlib
import json
import os.path
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reconciler import __version__
from schema.printable import printable
from schema.problems import Problem
from schema.rulebook import RULES, Rule


@dataclass(frozen=True, slots=True)
class Findings:
    problems: list[Problem]
    warnings: list[Problem]
    #: the text a valid run prints (resources per site), for the formats that keep it
    summary: str
    resources: int
    sites: dict[str, int]


Format = Callable[[Findings], tuple[str, str]]


def text(findings: Findings) -> tuple[str, str]:
    return findings.summary if not findings.problems else "", _plain(findings)


def github(findings: Findings) -> tuple[str, str]:
    commands = [_workflow_command("warning", p) for p in findings.warnings]
    commands += [_workflow_command("error", p) for p in findings.problems]
    out, err = text(findings)
    return "".join(line + "\n" for line in commands) + out, err


def json_document(findings: Findings) -> tuple[str, str]:
    document = {
        "format_version": 1,
        "valid": not findings.problems,
        "problems": [_as_json(p, "error") for p in findings.problems],
        "warnings": [_as_json(p, "warning") for p in findings.warnings],
        "resources": findings.resources,
        "sites": findings.sites,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n", ""


def gitlab_codequality(findings: Findings) -> tuple[str, str]:
    """GitLab's Code Quality report: a JSON array of issues, each with a fingerprint
    that stays the same while the problem does (rule, file, message and which of the
    identical ones it is; not its line, nor another place's).
    The plain lines go to stderr too: the report goes to a file, they to the job's log."""
    seen: Counter[str] = Counter()
    issues = [_code_quality(p, "minor", seen) for p in findings.warnings]
    issues += [_code_quality(p, "major", seen) for p in findings.problems]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n", _plain(findings)


#: where the schema is published for tools to fetch (the one GitHub's docs name)
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif(findings: Findings) -> tuple[str, str]:
    """A SARIF 2.1.0 log: one run whose driver lists every rule of the rulebook (id,
    summary, where the rule comes from), and one located result per problem, with the
    same stable fingerprint as the Code Quality report (GitHub keeps an alert open
    across pushes by it). The plain lines go to stderr, for the job's log."""
    rules = list(RULES.values())
    index = {rule.id: number for number, rule in enumerate(rules)}
    seen: Counter[str] = Counter()
    results = [_sarif_result(p, "warning", index, seen) for p in findings.warnings]
    results += [_sarif_result(p, "error", index, seen) for p in findings.problems]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ipecs-reconciler", "version": __version__,
                                "rules": [_sarif_rule(rule) for rule in rules]}},
            # PyYAML's columns count characters, not bytes or UTF-16 units
            "columnKind": "unicodeCodePoints",
            "originalUriBaseIds": {"%SRCROOT%": {"description": {
                "text": "The folder reconcile ran in (a repository's root, in CI)."}}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n", _plain(findings)


FORMATS: dict[str, Format] = {"text": text, "github": github, "json": json_document,
                              "gitlab-codequality": gitlab_codequality, "sarif": sarif}


def _plain(findings: Findings) -> str:
    return "".join(f"{p}\n" for p in (*findings.warnings, *findings.problems))


def _workflow_command(level: str, problem: Problem) -> str:
    where = problem.location
    title = problem.rule
    return (f"::{level} file={_property(where.path)},line={where.line},col={where.column},"
            f"title={_property(title)}::{_data(printable(_message(problem)))}")


def _message(problem: Problem) -> str:
    return problem.message.removeprefix("warning: ")


def _data(value: str) -> str:
    # GitHub's escaping for a workflow command's message
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def _as_json(problem: Problem, severity: str) -> dict[str, object]:
    rule = RULES.get(problem.rule)
    return {"rule": problem.rule, "severity": severity, "message": _message(problem),
            "path": problem.location.path, "line": problem.location.line,
            "column": problem.location.column,
            "rule_summary": rule.summary if rule is not None else None}


#: Another place named inside a message ("also at sites/Main/users.yaml:7:5"): its line
#: moves when unrelated lines do, so a fingerprint keeps only its file.
_PLACE = re.compile(r"(\S+?\.ya?ml):\d+(?::\d+)?")


def _fingerprint(problem: Problem, seen: Counter[str]) -> str:
    """A fingerprint that stays while the problem does: its rule, file and message
    (places inside the message without their lines), and which of several identical
    ones it is in that file (three identical mistakes are three issues)."""
    same = "\0".join((problem.rule, problem.location.path,
                      _PLACE.sub(r"\1", _message(problem))))
    seen[same] += 1
    return hashlib.sha256(f"{same}\0{seen[same]}".encode()).hexdigest()


def _code_quality(problem: Problem, severity: str, seen: Counter[str]) -> dict[str, object]:
    return {"description": f"{_message(problem)} [{problem.rule}]",
            "check_name": problem.rule, "fingerprint": _fingerprint(problem, seen),
            "severity": severity,
            "location": {"path": problem.location.path,
                         "lines": {"begin": problem.location.line}}}


def _sarif_rule(rule: Rule) -> dict[str, object]:
    return {"id": rule.id,
            "shortDescription": {"text": rule.summary},
            "help": {"text": f"{rule.summary}\nSource: {rule.source} ({rule.basis}). "
                             "Every rule: docs/rules.md."},
            "properties": {"basis": rule.basis, "source": rule.source}}


def _sarif_result(problem: Problem, level: str, index: dict[str, int],
                  seen: Counter[str]) -> dict[str, object]:
    where = problem.location
    result: dict[str, object] = {
        "ruleId": problem.rule,
        "level": level,
        "message": {"text": _message(problem)},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(where.path),
            "region": {"startLine": where.line, "startColumn": where.column}}}],
        "partialFingerprints": {"ipecsReconciler/v1": _fingerprint(problem, seen)},
    }
    if problem.rule in index:
        result["ruleIndex"] = index[problem.rule]
    return result


def _artifact(path: str) -> dict[str, str]:
    """A file as SARIF names it: a URI relative to where reconcile ran (what GitHub
    matches against the repository), or a file: URI for a file outside that folder."""
    if os.path.isabs(path) or path.split(os.sep, 1)[0] == os.pardir:
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": urllib.parse.quote(path.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}
