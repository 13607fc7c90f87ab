"""The CI templates in examples/ci/: every command they run exists with those options,
secrets stay where they belong, and their jobs do what they say when run here.

The static tests read each template as its CI system does and check every
`reconcile ...` line against the CLI itself (click parses it, exactly as it would
on a runner), and every script line against the script's own argument parser. The
run tests execute the jobs' shell with bash, against local tenants and fake forges
on loopback (tests/ci_runner.py says what cannot run here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from reconciler.cli import cli
from reconciler.loading import site_file_cache
from tests.ci_runner import (
    TEMPLATES,
    Job,
    commands,
    github_jobs,
    gitlab_jobs,
    load,
    run_job,
    triggers,
)
from tests.conftest import subcommands
from tests.fake_forges import FakeGitHub, FakeGitLab
from tests.processes import reconcile
from tests.standards import sarif_validator
from tests.tenant_helpers import name_tenant

GITHUB = TEMPLATES / "github"
GITLAB = TEMPLATES / "gitlab"
GITHUB_TEMPLATES = sorted(GITHUB.glob("*.yml"))
GITLAB_TEMPLATES = sorted(GITLAB.glob("*.yml"))
#: the many-customer layout: one folder per customer under customers/
GITHUB_MANY = sorted((TEMPLATES / "github-many").glob("*.yml"))
GITLAB_MANY = sorted((TEMPLATES / "gitlab-many").glob("*.yml"))
ALL_JOBS = ([job for path in [*GITHUB_TEMPLATES, *GITHUB_MANY] for job in github_jobs(path)]
            + [job for path in [*GITLAB_TEMPLATES, *GITLAB_MANY] for job in gitlab_jobs(path)])


def _forge(path: Path) -> Path:
    """The folder of a template's forge, where its scripts are (github/, gitlab/)."""
    return GITHUB if path.parent.name.startswith("github") else GITLAB


def _job(path: Path, name: str) -> Job:
    jobs = github_jobs(path) if _forge(path) == GITHUB else gitlab_jobs(path)
    return next(job for job in jobs if job.name == name)


def test_both_forges_have_their_templates() -> None:
    assert [p.name for p in GITHUB_TEMPLATES] == ["apply.yml", "drift.yml", "plan.yml"]
    assert [p.name for p in GITLAB_TEMPLATES] == ["phones.gitlab-ci.yml"]
    for path in GITHUB_TEMPLATES:
        assert "pull_request_target" not in triggers(load(path))  # runs a fork's code with secrets


# --- every command exists, with those options -----------------------------------------

def _check_reconcile(args: list[str]) -> None:
    command: click.Command = cli
    path, args = ["reconcile"], list(args)
    while isinstance(command, click.Group):
        name = args.pop(0) if args else ""
        found = subcommands(command)
        if name not in found:
            pytest.fail(f"no command `{' '.join(path)} {name}`")
        command = found[name]
        path.append(name)
    try:
        command.make_context(" ".join(path), list(args))
    except click.ClickException as error:
        pytest.fail(f"`{' '.join(path + args)}`: {error.format_message()}")


def _check_script(folder: Path, words: list[str]) -> None:
    script = folder / Path(words[0]).name
    assert script.is_file(), f"{words[0]} is not in {folder}"
    spec = importlib.util.spec_from_file_location(script.stem, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = ["2" if word.startswith("$") else word for word in words[1:]]
    try:
        module.arguments().parse_args(args)
    except SystemExit:
        pytest.fail(f"{script.name} refuses {words[1:]}")


@pytest.mark.parametrize("job", ALL_JOBS, ids=[f"{j.template.name}:{j.name}" for j in ALL_JOBS])
def test_every_command_a_job_runs_exists_with_its_options(job: Job) -> None:
    workflows = {path.name for path in [*GITHUB_TEMPLATES, *GITHUB_MANY]}
    for step in job.steps:
        for words in commands(step.script or ""):
            if words[0] == "reconcile":
                _check_reconcile(words[1:])
            elif words[0].startswith("python") and words[1].endswith(".py"):
                _check_script(_forge(job.template), words[1:])
            elif words[:3] == ["gh", "run", "list"]:
                assert words[words.index("--workflow") + 1] in workflows


def test_the_command_check_catches_a_drifted_template() -> None:
    """The check above would see a renamed option, command or choice."""
    for broken in (["plan", "--outfile", "plan.json"], ["plans"], ["show", "plan.json",
                   "--format", "html"], ["apply", "--plan"]):
        with pytest.raises(pytest.fail.Exception):
            _check_reconcile(broken)
    with pytest.raises(pytest.fail.Exception):
        _check_script(GITLAB, ["gitlab_notes.py", "drift-issue", "drift.md"])
    assert commands('code=0; reconcile plan --x > d.md || code=$?\n'
                    'if [ -n "$n" ]; then gh issue edit "$n"; fi') == [
        ["reconcile", "plan", "--x"], ["[", "-n", "$n", "]"],
        ["gh", "issue", "edit", "$n"]]


def _cli_variables(group: click.Group) -> set[str]:
    found = set()
    for command in subcommands(group).values():
        if isinstance(command, click.Group):
            found |= _cli_variables(command)
        found |= {p.envvar for p in command.params
                  if isinstance(p, click.Option) and isinstance(p.envvar, str)}
    return found


def test_every_reconciler_variable_a_template_sets_is_one_the_tool_reads() -> None:
    known = _cli_variables(cli) | {"RECONCILER_TENANT", site_file_cache.KEY_VARIABLE}
    for job in ALL_JOBS:
        for key in (*job.env, *(k for step in job.steps for k in step.env)):
            if key.startswith("RECONCILER_") and not key.startswith("RECONCILER_PW_"):
                assert key in known, f"{job.template.name}:{job.name} sets {key}"


# --- secrets where they belong -----------------------------------------------------------

def test_no_expression_is_pasted_into_a_script() -> None:
    """`${{ github.event... }}` inside `run:` is a script injection: values come in
    through `env:` only."""
    for job in ALL_JOBS:
        for step in job.steps:
            assert "${{" not in (step.script or ""), f"{job.template.name}:{job.name}"


def test_a_fork_gets_no_secret_and_leaves_no_plan_to_apply() -> None:
    fork = _job(GITHUB / "plan.yml", "plan-fork")
    assert "!= github.repository" in fork.definition["if"]
    text = yaml.safe_dump(fork.definition)
    assert "secrets." not in text and "vars." not in text and "permissions" not in text
    uploads = [s.with_["name"] for s in fork.steps if (s.uses or "").startswith(
        "actions/upload-artifact")]
    assert uploads == ["fixture-plan"]
    gitlab_fork = _job(GITLAB / "phones.gitlab-ci.yml", "plan-fork")
    text = yaml.safe_dump(gitlab_fork.definition)
    assert "PHONES_DB" not in text and "GITLAB_TOKEN" not in text
    assert "plan.json" not in gitlab_fork.definition["artifacts"]["paths"]
    assert "SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID" in gitlab_fork.definition[
        "rules"][0]["if"]


def test_only_a_protected_job_can_write() -> None:
    for job in ALL_JOBS:
        text = yaml.safe_dump(job.definition)
        if "PHONES_DB_WRITE_PASSWORD" in text or "secrets.RECONCILER_PW_" in text:
            assert "environment" in job.definition, f"{job.template.name}:{job.name}"
            if _forge(job.template) == GITLAB:
                assert all("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rule["if"]
                           for rule in job.definition["rules"])


def test_apply_takes_the_plan_the_pull_request_saved() -> None:
    saved = [s.with_["name"] for s in _job(GITHUB / "plan.yml", "plan").steps
             if (s.uses or "").startswith("actions/upload-artifact")]
    taken = [s.with_["name"] for s in _job(GITHUB / "apply.yml", "apply").steps
             if (s.uses or "").startswith("actions/download-artifact")]
    assert saved == taken == ["plan"]
    pipeline = load(GITLAB / "phones.gitlab-ci.yml")
    apply_words = [w for line in pipeline["apply"]["script"] for w in commands(line)]
    fetch = next(w for w in apply_words if "reviewed-plan" in w)
    planner = pipeline[fetch[fetch.index("--job") + 1]]
    assert "plan.json" in planner["artifacts"]["paths"]
    assert any("--out plan.json" in line for line in planner["script"])


def test_one_tenant_is_never_planned_and_applied_at_once() -> None:
    plan = load(GITHUB / "plan.yml")["concurrency"]
    assert "pull_request.number" in plan["group"] and plan["cancel-in-progress"] is True
    apply = load(GITHUB / "apply.yml")["concurrency"]
    assert apply["cancel-in-progress"] is False  # a cancelled apply leaves work behind
    pipeline = load(GITLAB / "phones.gitlab-ci.yml")
    groups = {pipeline[name]["resource_group"] for name in
              ("plan", "apply", "plan-by-hand", "apply-by-hand", "drift")}
    assert len(groups) == 1


# --- the jobs, run here -------------------------------------------------------------------

def _expressions(tenant: Path) -> dict[str, str]:
    return {"vars.RECONCILER_TENANT": f"sqlite:///{tenant}", "github.token": "t0ken",
            "github.repository": "acme/phones", "github.sha": "f00d",
            "secrets.PHONES_DB_READ_PASSWORD": "", "secrets.PHONES_DB_WRITE_PASSWORD": "",
            "vars.PHONES_DB_READ_USER": "", "vars.PHONES_DB_WRITE_USER": "",
            "secrets.RECONCILER_PW_0997": "Pa55word-0997",
            "secrets.RECONCILER_CACHE_KEY": "a-cache-key",
            "secrets.DRIFT_TOKEN || github.token": "t0ken"}


def _workspace(root: Path, sites: Path, rename: bool = True) -> Path:
    root.mkdir()
    shutil.copytree(sites, root / "sites")
    if rename:
        users = root / "sites" / "Main" / "users.yaml"
        users.write_text(users.read_text().replace("name: test vqm", 'name: "test vqm 2"'))
    return root


def _applied(sites: Path, tmp_path: Path) -> Path:
    """A tenant holding what `sites` describes: main's, before the change under test."""
    tenant = tmp_path / "tenant.db"
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    return tenant


def test_a_pull_request_is_planned_commented_and_its_plan_applied_after_merge(
        example_sites: Path, tmp_path: Path) -> None:
    tenant = _applied(example_sites, tmp_path)
    pull = _workspace(tmp_path / "pull", example_sites)
    (pull / "event.json").write_text(json.dumps({"pull_request": {"number": 7}}))
    summary = tmp_path / "summary.md"
    github = FakeGitHub()
    with github.serving() as api:
        env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_API_URL": api,
               "GITHUB_REPOSITORY": "acme/phones", "GITHUB_EVENT_PATH": str(pull / "event.json"),
               "CI_SCRIPTS": str(GITHUB)}
        planned = run_job(_job(GITHUB / "plan.yml", "plan"), pull,
                          expressions=_expressions(tenant), env=env)
        assert planned.code == 0, planned.output
        again = run_job(_job(GITHUB / "plan.yml", "plan"), pull,
                        expressions=_expressions(tenant), env=env)
        assert again.code == 0, again.output
    assert len(github.comments) == 1  # edited in place on the second push
    assert "<!-- ipecs-reconciler-plan:sites -->" in github.comments[0]["body"]
    assert "0 to create, 1 to update" in github.comments[0]["body"]
    assert "0 to create, 1 to update" in summary.read_text()
    # merged: the artifact is downloaded next to the merged tree, and applied
    merged = _workspace(tmp_path / "merged", pull / "sites", rename=False)
    shutil.copy(pull / "plan.json", merged / "plan.json")
    apply = _job(GITHUB / "apply.yml", "apply")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    applied = run_job(apply, merged, expressions=_expressions(tenant), env=env, event="push")
    assert applied.code == 0, applied.output
    assert reconcile("plan", "--detailed-exitcode", str(merged / "sites"), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    # the same plan once more is stale (the tenant moved on): refused, nothing written
    stale = run_job(apply, merged, expressions=_expressions(tenant), env=env, event="push")
    assert stale.code == 1 and "the plan is stale, refusing to apply" in stale.output


def test_a_forked_pull_request_is_planned_against_a_labelled_fixture(
        example_sites: Path, tmp_path: Path) -> None:
    fork = _workspace(tmp_path / "fork", example_sites)
    shutil.copytree(example_sites, fork / ".base" / "sites")  # the second checkout
    (tmp_path / "runner-temp").mkdir()
    summary = tmp_path / "summary.md"
    outcome = run_job(_job(GITHUB / "plan.yml", "plan-fork"), fork, expressions={},
                      env={"RUNNER_TEMP": str(tmp_path / "runner-temp"),
                           "GITHUB_STEP_SUMMARY": str(summary), "CI_SCRIPTS": str(GITHUB)})
    assert outcome.code == 0, outcome.output
    shown = summary.read_text()
    assert shown.startswith("> [!WARNING]\n> **Planned against a FIXTURE tenant")
    assert shown.count("iPECS Cloud plan") == 1  # once, under the label
    assert "0 to create, 1 to update" in shown  # the fork's change, against the base
    assert (fork / "fixture-plan.json").exists() and not (fork / "plan.json").exists()


FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_GH_LOG"
if [ "$1 $2" = "issue list" ]; then cat "$FAKE_GH_OPEN"; fi
if [ "$1 $2" = "pr list" ]; then cat "$FAKE_GH_PR"; fi
"""


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def _repository(workspace: Path, remote: Path) -> None:
    """The checkout the job runs in: main's tree, committed, with a remote to push to."""
    _git("init", "--quiet", "--bare", str(remote), cwd=workspace.parent)
    _git("init", "--quiet", "-b", "main", cwd=workspace)
    _git("add", "sites", cwd=workspace)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m",
         "main", cwd=workspace)
    _git("remote", "add", "origin", str(remote), cwd=workspace)
    _git("push", "--quiet", "origin", "main", cwd=workspace)


def test_the_nightly_drift_job_opens_a_pull_request_with_the_portal_s_changes(
        example_sites: Path, tmp_path: Path) -> None:
    """`gh` is GitHub's own CLI, which needs GitHub: a stand-in records what the job asks
    of it, and answers `pr list` and `issue list` with the open ones' numbers. git is
    real: the edit is committed and pushed to a bare remote."""
    tenant = tmp_path / "tenant.db"
    main = _workspace(tmp_path / "main", example_sites, rename=False)
    portal = _workspace(tmp_path / "portal", example_sites)  # someone edits by hand
    remote = tmp_path / "remote.git"
    _repository(main, remote)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "gh").write_text(FAKE_GH)
    (fake_bin / "gh").chmod(0o755)
    log, open_issue, open_pr = tmp_path / "gh.log", tmp_path / "issue", tmp_path / "pr"
    env = {"PREPEND_PATH": str(fake_bin), "FAKE_GH_LOG": str(log),
           "FAKE_GH_OPEN": str(open_issue), "FAKE_GH_PR": str(open_pr),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    drift = _job(GITHUB / "drift.yml", "drift")

    def night(pr: str = "", issue: str = "") -> tuple[int, list[str]]:
        open_issue.write_text(issue)
        open_pr.write_text(pr)
        log.write_text("")
        _git("checkout", "--quiet", "main", cwd=main)
        outcome = run_job(drift, main, expressions=_expressions(tenant), env=env,
                          event="schedule")
        assert outcome.code in (0, 1), outcome.output
        return outcome.code, [line for line in log.read_text().splitlines()
                              if line.startswith(("issue", "pr"))]

    assert reconcile("apply", "--auto-approve", str(portal / "sites"), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    code, asked = night()
    assert code == 0, asked
    assert [line.split(" --")[0] for line in asked] == ["pr list", "pr create"]
    assert "--body-file drift.md" in asked[1] and "--head ipecs-drift" in asked[1]
    assert "1 to update" in (main / "drift.md").read_text()
    pushed = _git("show", "ipecs-drift:sites/Main/users.yaml", cwd=remote)
    assert 'name: "test vqm 2"' in pushed
    assert _git("diff", "--stat", "main", "ipecs-drift", cwd=remote).count("|") == 1
    code, asked = night(pr="7")
    assert asked == ["pr list --head ipecs-drift --state open --limit 1 --json number --jq "
                     ".[0].number // empty", "pr edit 7 --body-file drift.md"]
    # the pull request closed instead, and main applied: no drift, all closed
    _git("checkout", "--quiet", "main", cwd=main)
    assert reconcile("apply", "--auto-approve", str(main / "sites"), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    code, asked = night(pr="7", issue="12")
    assert code == 0 and asked[1].startswith("issue close 12") \
        and asked[3].startswith("pr close 7 --delete-branch")
    broken = {**_expressions(tenant), "vars.RECONCILER_TENANT": "nosuch://tenant"}
    log.write_text("")
    failed = run_job(drift, main, expressions=broken, env=env, event="schedule")
    assert failed.code == 1 and "issue" not in log.read_text() and "pr " not in log.read_text()


def test_a_drift_the_tree_cannot_take_opens_an_issue(example_sites: Path,
                                                    tmp_path: Path) -> None:
    """An apply killed half way leaves its journal: the tree cannot say that, so the
    drift job opens the issue holding the plan (which continues the apply)."""
    tenant = tmp_path / "tenant.db"
    main = _workspace(tmp_path / "main", example_sites, rename=False)
    _repository(main, tmp_path / "remote.git")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "gh").write_text(FAKE_GH)
    (fake_bin / "gh").chmod(0o755)
    log = tmp_path / "gh.log"
    (tmp_path / "none").write_text("")
    env = {"PREPEND_PATH": str(fake_bin), "FAKE_GH_LOG": str(log),
           "FAKE_GH_OPEN": str(tmp_path / "none"), "FAKE_GH_PR": str(tmp_path / "none"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    killed = reconcile("apply", "--auto-approve", str(main / "sites"), cwd=tmp_path,
                       tenant=tenant, failpoint="step-2-done:kill")
    assert killed.returncode == -9
    outcome = run_job(_job(GITHUB / "drift.yml", "drift"), main,
                      expressions=_expressions(tenant), env=env, event="schedule")
    assert outcome.code == 0, outcome.output
    asked = log.read_text().splitlines()
    assert any(line.startswith("issue create") for line in asked)
    assert not any(line.startswith("pr ") for line in asked)
    assert "an apply stopped half way" in outcome.output


# --- GitLab -------------------------------------------------------------------------------

PIPELINE = GITLAB / "phones.gitlab-ci.yml"


def _gitlab_env(api: str, tenant: Path, **extra: str) -> dict[str, str]:
    return {"CI_API_V4_URL": f"{api}/api/v4", "CI_PROJECT_ID": "42", "GITLAB_TOKEN": "t0ken",
            "CI_SCRIPTS": str(GITLAB), "RECONCILER_TENANT": f"sqlite:///{tenant}",
            "PHONES_DB_READ_PASSWORD": "", "PHONES_DB_WRITE_PASSWORD": "", **extra}


def test_gitlab_validates_into_a_code_quality_report(tmp_path: Path,
                                                     example_sites: Path) -> None:
    merge_request = _workspace(tmp_path / "mr", example_sites)
    users = merge_request / "sites" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("call_barring: common",
                                                "call_barring: common\n    colour: red", 1))
    outcome = run_job(_job(PIPELINE, "validate"), merge_request, expressions={}, env={})
    assert outcome.code == 1 and "sites/Main/users.yaml:" in outcome.output
    report = json.loads((merge_request / "gl-code-quality-report.json").read_text())
    assert report and report[0]["location"]["path"] == "sites/Main/users.yaml"


def test_gitlab_plans_a_merge_request_and_applies_its_plan_after_merge(
        tmp_path: Path, example_sites: Path) -> None:
    tenant = _applied(example_sites, tmp_path)
    merge_request = _workspace(tmp_path / "mr", example_sites)
    gitlab = FakeGitLab()
    with gitlab.serving() as api:
        env = _gitlab_env(api, tenant, CI_MERGE_REQUEST_IID="5")
        for _push in range(2):
            planned = run_job(_job(PIPELINE, "plan"), merge_request, expressions={}, env=env)
            assert planned.code == 0, planned.output
        assert len(gitlab.notes) == 1 and "1 to update" in gitlab.notes[0]["body"]
        assert json.loads((merge_request / "plan.gitlab.json").read_text()) == {
            "create": 0, "update": 1, "delete": 0}
        # merged as commit abc; MR !5's newest pipeline failed, the one before saved the plan
        merged = _workspace(tmp_path / "merged", merge_request / "sites", rename=False)
        apply = _job(PIPELINE, "apply")
        env = _gitlab_env(api, tenant, CI_COMMIT_SHA="abc")
        missing = run_job(apply, merged, expressions={}, env=env)
        assert missing.code == 1 and "no plan was reviewed" in missing.output
        gitlab.merged["abc"] = [{"iid": 5, "state": "merged"}]
        gitlab.pipelines[5] = [{"id": 901, "status": "failed", "sha": "e2"},
                               {"id": 900, "status": "success", "sha": "e1"}]
        gitlab.jobs[900] = [{"id": 77, "name": "plan", "status": "success"},
                            {"id": 76, "name": "validate", "status": "success"}]
        gitlab.artifacts[(77, "plan.json")] = (merge_request / "plan.json").read_bytes()
        applied = run_job(apply, merged, expressions={}, env=env)
        assert applied.code == 0, applied.output
        assert "pipeline 900" in applied.output
    assert reconcile("plan", "--detailed-exitcode", str(merged / "sites"), cwd=tmp_path,
                     tenant=tenant).returncode == 0


def test_a_gitlab_fork_is_planned_against_a_labelled_fixture(tmp_path: Path,
                                                            example_sites: Path) -> None:
    fork = tmp_path / "fork"
    shutil.copytree(example_sites, fork / "sites")
    git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def in_git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=fork, check=True, capture_output=True,
                              text=True, env={**git, "PATH": "/usr/bin:/bin"}).stdout.strip()

    in_git("init", "-q")
    in_git("add", ".")
    in_git("commit", "-qm", "main")
    base = in_git("rev-parse", "HEAD")
    users = fork / "sites" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", 'name: "test vqm 2"'))
    outcome = run_job(_job(PIPELINE, "plan-fork"), fork, expressions={},
                      env={"CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "CI_PROJECT_DIR": str(fork)})
    assert outcome.code == 0, outcome.output
    shown = (fork / "fixture-plan.md").read_text()
    assert shown.startswith("> **Planned against a FIXTURE tenant, not the real one.**")
    assert "0 to create, 1 to update" in shown and "FIXTURE" in outcome.output


def test_the_gitlab_drift_job_opens_updates_and_closes_one_merge_request(
        tmp_path: Path, example_sites: Path) -> None:
    tenant = tmp_path / "tenant.db"
    main = _workspace(tmp_path / "main", example_sites, rename=False)
    portal = _workspace(tmp_path / "portal", example_sites)
    remote = tmp_path / "remote.git"
    _repository(main, remote)
    assert reconcile("apply", "--auto-approve", str(portal / "sites"), cwd=tmp_path,
                     tenant=tenant).returncode == 0
    gitlab = FakeGitLab()
    gitlab.merge_requests = [{"iid": 1, "state": "opened", "source_branch": "ipecs-drift",
                              "description": "someone else's", "author": {"username": "x"}}]
    drift = _job(PIPELINE, "drift")
    with gitlab.serving() as api:
        env = _gitlab_env(api, tenant, DRIFT_PUSH_URL=str(remote), CI_DEFAULT_BRANCH="main")
        for _night in range(2):
            _git("checkout", "--quiet", "main", cwd=main)
            outcome = run_job(drift, main, expressions={}, env=env)
            assert outcome.code == 0, outcome.output
        assert len(gitlab.merge_requests) == 2 and gitlab.issues == []
        ours = gitlab.merge_requests[1]
        assert ours["state"] == "opened" and ours["target_branch"] == "main"
        assert "<!-- ipecs-reconciler-drift-mr:sites -->" in ours["description"]
        assert "1 to update" in ours["description"]
        pushed = _git("show", "ipecs-drift:sites/Main/users.yaml", cwd=remote)
        assert 'name: "test vqm 2"' in pushed
        _git("checkout", "--quiet", "main", cwd=main)
        assert reconcile("apply", "--auto-approve", str(main / "sites"), cwd=tmp_path,
                         tenant=tenant).returncode == 0
        assert run_job(drift, main, expressions={}, env=env).code == 0
        assert ours["state"] == "closed" and gitlab.merge_requests[0]["state"] == "opened"
        broken = {**env, "RECONCILER_TENANT": "nosuch://tenant"}
        failed = run_job(drift, main, expressions={}, env=broken)
        assert failed.code == 1 and "an error, not a drift" in failed.output
        assert len(gitlab.merge_requests) == 2 and gitlab.issues == []


def test_the_gitlab_drift_job_opens_an_issue_for_a_drift_the_tree_cannot_take(
        tmp_path: Path, example_sites: Path) -> None:
    tenant = tmp_path / "tenant.db"
    main = _workspace(tmp_path / "main", example_sites, rename=False)
    _repository(main, tmp_path / "remote.git")
    killed = reconcile("apply", "--auto-approve", str(main / "sites"), cwd=tmp_path,
                       tenant=tenant, failpoint="step-2-done:kill")
    assert killed.returncode == -9
    gitlab = FakeGitLab()
    with gitlab.serving() as api:
        outcome = run_job(_job(PIPELINE, "drift"), main, expressions={},
                          env=_gitlab_env(api, tenant, DRIFT_PUSH_URL=str(tmp_path / "no")))
    assert outcome.code == 0, outcome.output
    assert gitlab.merge_requests == [] and len(gitlab.issues) == 1
    assert "an apply stopped half way" in outcome.output


def test_the_gitlab_script_says_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("plan")
    done = subprocess.run([sys.executable, str(GITLAB / "gitlab_notes.py"), "mr-comment",
                           str(tmp_path / "plan.md")], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "CI_API_V4_URL": "http://127.0.0.1:9",
                               "CI_PROJECT_ID": "42"}, timeout=60)
    assert done.returncode == 1 and "GITLAB_TOKEN is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_each_problem_is_annotated_once() -> None:
    """`validate --format github` annotates each problem itself; a problem matcher added
    before it in the same job would annotate every problem a second time."""
    for job in ALL_JOBS:
        if _forge(job.template) != GITHUB:
            continue
        matcher = False
        for step in job.steps:
            script = step.script or ""
            if "validate --format github" in script:
                before = script.split("validate --format github")[0]
                assert not matcher and "::add-matcher::" not in before, \
                    f"{job.template.name}:{job.name} annotates twice"
            matcher = matcher or "::add-matcher::" in script


def test_the_gitlab_image_has_git_where_a_job_needs_it() -> None:
    """python:*-slim has no git: installing the tool from a git URL, or the fork job's
    `git worktree`, would fail on it."""
    pipeline = yaml.safe_load(PIPELINE.read_text())
    image = pipeline[".reconciler"]["image"]
    uses_git = "git+" in yaml.safe_dump(pipeline["variables"]) or "git " in PIPELINE.read_text()
    installs_git = "apt-get install" in yaml.safe_dump(pipeline[".reconciler"])
    assert not uses_git or "slim" not in image or installs_git, image


def test_code_scanning_uploads_the_sarif_log_validate_wrote(tmp_path: Path,
                                                            example_sites: Path) -> None:
    """The opt-in code-scanning job writes a valid SARIF log even when validate finds
    problems (that is what it is for), uploads that file, and is the only job allowed to
    write security events, with no tenant and no secret in reach."""
    job = _job(GITHUB / "plan.yml", "code-scanning")
    assert "vars.PHONES_CODE_SCANNING == 'true'" in job.definition["if"]
    assert "== github.repository" in job.definition["if"]  # a fork's token cannot upload
    assert job.definition["permissions"] == {"contents": "read", "security-events": "write"}
    assert "secrets." not in yaml.safe_dump(job.definition)
    writers = [j.name for j in ALL_JOBS if "security-events" in j.definition.get(
        "permissions", {})]
    assert writers == ["code-scanning"]
    (upload,) = [s for s in job.steps if (s.uses or "").startswith(
        "github/codeql-action/upload-sarif@")]
    pull = _workspace(tmp_path / "pull", example_sites)
    users = pull / "sites" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("call_barring: common",
                                               "call_barring: common\n    colour: red", 1))
    outcome = run_job(job, pull, expressions={}, env={})
    assert outcome.code == 0, outcome.output
    log = json.loads((pull / upload.with_["sarif_file"]).read_text())
    sarif_validator().validate(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["schema.unknown-field"]
    # a tool that fails (not "problems found") fails the job: no partial log uploaded
    failing = tmp_path / "failing-bin"
    failing.mkdir()
    (failing / "reconcile").write_text("#!/bin/sh\necho 'error: cannot read' >&2\nexit 3\n")
    (failing / "reconcile").chmod(0o755)
    broken = run_job(job, pull, expressions={}, env={"PREPEND_PATH": str(failing)})
    assert broken.code == 1 and "cannot read" in broken.output


# --- many customers -------------------------------------------------------------------

def _customers_repository(root: Path, example_sites: Path) -> str:
    """customers/acme and customers/globex committed; then acme changed in a second
    commit (a renamed user, a password of its own). The first commit's sha."""
    root.mkdir()
    for name in ("acme", "globex"):
        shutil.copytree(example_sites, root / "customers" / name)
        name_tenant(root / "customers" / name, name.capitalize())
    _git("init", "--quiet", "-b", "main", cwd=root)
    _git("add", "customers", cwd=root)
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m",
         "base", cwd=root)
    base = _git("rev-parse", "HEAD", cwd=root).strip()
    users = root / "customers" / "acme" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", 'name: "test vqm 2"').replace(
        'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_acme_0997}', 1))
    _git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-am",
         "acme", cwd=root)
    return base


def test_many_customers_each_planned_and_applied_in_a_job_of_its_own(
        example_sites: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    base = _customers_repository(root, example_sites)
    tenants = f"sqlite:///{tmp_path}/tenants/{{dir}}.db"
    (tmp_path / "tenants").mkdir()
    plan_file = TEMPLATES / "github-many" / "plan-many.yml"
    changed = run_job(_job(plan_file, "changed"), root, event="pull_request",
                      expressions={"github.event.pull_request.base.sha": base}, env={})
    assert changed.code == 0, changed.output
    customers = json.loads(changed.outputs["changed"]["customers"])
    assert customers == [{"name": "acme", "dir": "customers/acme"}]  # globex is untouched
    (root / "event.json").write_text(json.dumps({"pull_request": {"number": 7}}))
    matrix = {"matrix.customer.name": "acme", "matrix.customer.dir": "customers/acme",
              "vars.RECONCILER_TENANT": tenants, "vars.PHONES_DB_READ_USER": "",
              "secrets.PHONES_DB_READ_PASSWORD": "", "github.token": "t0ken"}
    github = FakeGitHub()
    with github.serving() as api:
        planned = run_job(_job(plan_file, "plan"), root, expressions=matrix, env={
            "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "acme/phones",
            "GITHUB_EVENT_PATH": str(root / "event.json"), "CI_SCRIPTS": str(GITHUB)})
    assert planned.code == 0, planned.output
    (comment,) = github.comments
    assert "<!-- ipecs-reconciler-plan:acme -->" in comment["body"]
    assert "8 to create" in comment["body"]
    apply_file = TEMPLATES / "github-many" / "apply-many.yml"
    secrets = {**matrix, "vars.PHONES_DB_WRITE_USER": "", "secrets.PHONES_DB_WRITE_PASSWORD": "",
               "secrets.PHONES_PASSWORDS": "RECONCILER_PW_acme_0997=Secret-0997x\n"
                                           "RECONCILER_PW_globex_0997=not-for-acme"}
    applied = run_job(_job(apply_file, "apply"), root, expressions=secrets, env={},
                      event="push")
    assert applied.code == 0, applied.output
    assert (tmp_path / "tenants" / "acme.db").is_file()
    assert not (tmp_path / "tenants" / "globex.db").exists()
    again = reconcile("plan", "--detailed-exitcode", "customers/acme", cwd=root,
                      RECONCILER_TENANT=tenants)
    assert again.returncode == 0, again.stdout + again.stderr


def test_gitlab_plans_each_changed_customer_in_its_matrix_job(
        example_sites: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _customers_repository(root, example_sites)
    pipeline = GITLAB_MANY[0]
    job = _job(pipeline, "plan-customer")
    assert job.definition["parallel"]["matrix"] == [{"CUSTOMER": ["acme", "globex"]}]
    assert job.definition["rules"][0]["changes"] == ["customers/$CUSTOMER/**/*"]
    gitlab = FakeGitLab()
    with gitlab.serving() as api:
        env = _gitlab_env(api, tmp_path / "unused.db", CUSTOMER="acme",
                          CI_MERGE_REQUEST_IID="3",
                          RECONCILER_TENANT=f"sqlite:///{tmp_path}/{{dir}}.db")
        outcome = run_job(job, root, expressions={}, env=env)
    assert outcome.code == 0, outcome.output
    (note,) = gitlab.notes
    assert note["body"].startswith("<!-- ipecs-reconciler-plan:acme -->")
    assert "8 to create" in note["body"]
