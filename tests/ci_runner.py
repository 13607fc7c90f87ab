"""Reading the CI templates in examples/ci/ as their CI systems would, and running
their jobs' shell here.

`github_jobs` and `gitlab_jobs` give each job's scripts and environment; `commands`
splits a script into the simple commands it runs (for checking them against the
CLI); `run_job` runs a job's scripts with bash in a working folder, as a runner
would, minus what cannot run here: `uses:` actions (checkout, artifacts) are done
by the test, and the install step is skipped (the reconciler under test is on PATH).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "examples" / "ci"
BIN = str(Path(sys.executable).parent)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INSTALL_STEP = "install the reconciler"


@dataclass
class Step:
    name: str
    script: str | None  # None: a `uses:` action
    uses: str | None
    condition: str | None
    env: dict[str, str]
    with_: dict[str, Any]
    id: str | None = None


@dataclass
class Job:
    template: Path
    name: str
    definition: dict[str, Any]
    env: dict[str, str]
    steps: list[Step] = field(default_factory=list)


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    found = workflow.get("on", workflow.get(True))
    assert isinstance(found, dict)
    return found


def github_jobs(path: Path) -> list[Job]:
    workflow = load(path)
    jobs = []
    for name, job in workflow["jobs"].items():
        env = {**workflow.get("env", {}), **job.get("env", {})}
        steps = [Step(step.get("name", step.get("uses", "")), step.get("run"),
                      step.get("uses"), step.get("if"), step.get("env", {}),
                      step.get("with", {}), step.get("id"))
                 for step in job["steps"]]
        jobs.append(Job(path, name, job, env, steps))
    return jobs


def gitlab_jobs(path: Path) -> list[Job]:
    pipeline = load(path)
    jobs = []
    for name, job in pipeline.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        merged: dict[str, Any] = {}
        for parent in _as_list(job.get("extends")):
            merged.update(pipeline[parent])
        merged.update(job)
        env = {**pipeline.get("variables", {}), **merged.get("variables", {})}
        steps = [Step(INSTALL_STEP, "\n".join(merged.get("before_script", [])), None, None,
                      {}, {})] if merged.get("before_script") else []
        steps.append(Step("script", "\n".join(merged["script"]), None, None, {}, {}))
        jobs.append(Job(path, name, merged, env, steps))
    return jobs


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


SEPARATORS = {";", "&&", "||", "|", "(", ")", "&", ";;"}
RESERVED = {"if", "then", "else", "elif", "fi", "{", "}", "do", "done", "!", "while", "for"}
REDIRECTS = {">", ">>", "<", ">&", "<&"}


def commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as words (quotes removed, redirections
    and assignments left out). Enough shell for our templates; a construct it does
    not know makes a test fail rather than pass unchecked."""
    found: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        current: list[str] = []
        skip_next = False
        for token in lexer:
            if skip_next:
                skip_next = False
            elif token in SEPARATORS:
                found.append(current)
                current = []
            elif token in REDIRECTS:
                skip_next = True
            elif not current and (token in RESERVED or re.fullmatch(r"\w+=.*", token)):
                continue
            else:
                current.append(token)
        found.append(current)
    return [words for words in found if words]


@dataclass
class Outcome:
    code: int
    output: str
    outputs: dict[str, dict[str, str]]  # step id -> its GITHUB_OUTPUT values


def run_job(job: Job, workdir: Path, *, expressions: dict[str, str], env: dict[str, str],
            event: str = "pull_request", skip: tuple[str, ...] = ()) -> Outcome:
    """Run the job's scripts in order, as bash does on a runner (`-eo pipefail`),
    stopping at the first that fails. `expressions` gives a value for each `${{ }}`
    the job uses (an unknown one fails the test); steps whose `if:` is false, `uses:`
    steps, the install step and steps named in `skip` do not run."""
    base = {key: value for key, value in os.environ.items()
            if not key.startswith(("RECONCILER_", "GITHUB_", "CI_"))}
    base["PATH"] = os.pathsep.join((*env.get("PREPEND_PATH", "").split(os.pathsep), BIN,
                                    base["PATH"])).lstrip(os.pathsep)
    outputs: dict[str, dict[str, str]] = {}
    log: list[str] = []
    for step in job.steps:
        if step.script is None or step.name == INSTALL_STEP or step.name in skip:
            continue
        if step.condition is not None and not _holds(step.condition, outputs, event):
            continue
        output_file = workdir / ".github-output"
        output_file.write_text("")
        step_env = {**base, **_expanded(job.env, expressions), **env,
                    **_expanded(step.env, expressions), "GITHUB_OUTPUT": str(output_file)}
        step_env = {key: os.path.expandvars(value) if "$" in value else value
                    for key, value in step_env.items()}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                               step.script], cwd=workdir, env=step_env, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        log.append(f"--- {step.name}\n{done.stdout}{done.stderr}")
        if step.id:
            outputs[step.id] = dict(line.split("=", 1) for line in
                                    output_file.read_text().splitlines() if "=" in line)
        if done.returncode != 0:
            return Outcome(done.returncode, "".join(log), outputs)
    return Outcome(0, "".join(log), outputs)


def _expanded(values: dict[str, Any], expressions: dict[str, str]) -> dict[str, str]:
    def value(match: re.Match[str]) -> str:
        assert match[1] in expressions, f"the test gives no value for ${{{{ {match[1]} }}}}"
        return expressions[match[1]]
    return {key: EXPRESSION.sub(value, str(raw)) for key, raw in values.items()}


def _holds(condition: str, outputs: dict[str, dict[str, str]], event: str) -> bool:
    if " && " in condition:
        return all(_holds(part, outputs, event) for part in condition.split(" && "))
    if match := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+) ([!=]=) '(.*)'",
                             condition):
        found = outputs.get(match[1], {}).get(match[2]) == match[4]
        return found if match[3] == "==" else not found
    if match := re.fullmatch(r"github\.event_name == '(.*)'", condition):
        return event == match[1]
    raise AssertionError(f"the test runner cannot evaluate `if: {condition}`")
