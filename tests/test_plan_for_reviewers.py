"""The plan where reviewers look: the job summary, GitLab's widget, one PR comment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reconciler.output.job_summaries import fitted
from tests.conftest import REPO, Run
from tests.fake_forges import FakeGitHub


def test_the_plan_is_appended_to_the_job_summary(run: Run, example_sites: Path,
                                                 tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step output\n")
    result = run("plan", str(example_sites), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0
    markdown = run("plan", str(example_sites), "--format", "markdown", "--summary-file", "",
                   env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert markdown.exit_code == 0, markdown.stderr  # '' turns the summary off
    assert summary.read_text() == "# Earlier step output\n" + markdown.stdout
    assert "iPECS Cloud plan for tenant" in summary.read_text()
    explicit = tmp_path / "other.md"
    run("plan", str(example_sites), "--summary-file", str(explicit),
        env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert explicit.read_text() == markdown.stdout
    assert summary.read_text() == "# Earlier step output\n" + markdown.stdout  # untouched


def test_an_unwritable_summary_is_an_error_after_the_plan(run: Run, example_sites: Path,
                                                          tmp_path: Path) -> None:
    result = run("plan", str(example_sites), "--summary-file", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot write the job summary" in result.stderr and "Plan:" in result.stdout


def test_a_plan_too_large_for_the_summary_is_cut_cleanly(run: Run, example_sites: Path) -> None:
    markdown = run("plan", str(example_sites), "--format", "markdown").stdout
    room = len(markdown.encode()) // 2
    cut, was_cut = fitted(markdown, room, 8)
    assert was_cut and len(cut.encode()) <= room
    assert cut.count("```") % 2 == 0
    assert "This plan of 8 change(s) is cut here" in cut
    assert markdown.startswith(cut.split("\n\n> **This plan")[0].removesuffix("```\n"))
    assert fitted(markdown, len(markdown.encode()), 8) == (markdown, False)


def test_gitlab_reads_creates_updates_and_deletes(run: Run, example_sites: Path) -> None:
    result = run("plan", str(example_sites), "--format", "gitlab")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"create": 8, "update": 0, "delete": 0}


def _comment(api: str, markdown: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "examples/ci/github/pr_comment.py"), str(markdown),
         "--pr", "7", *extra], capture_output=True, text=True, timeout=60,
        env={**os.environ, "GITHUB_API_URL": api, "GITHUB_TOKEN": "t0ken",
             "GITHUB_REPOSITORY": "acme/phones"})


def test_one_pr_comment_is_kept_and_edited_in_place(run: Run, example_sites: Path,
                                                    tmp_path: Path) -> None:
    github = FakeGitHub()
    github.comments = [{"id": n, "body": f"a review remark {n}"} for n in range(1, 131)]
    with github.serving() as api:
        plan = tmp_path / "plan.md"
        plan.write_text(run("plan", str(example_sites), "--format", "markdown").stdout)
        first = _comment(api, plan)
        assert first.returncode == 0, first.stderr
        assert "added the plan comment on pull request #7" in first.stdout
        plan.write_text(plan.read_text() + "\nsecond push\n")
        second = _comment(api, plan)
        assert "updated the plan comment" in second.stdout
        ours = [c for c in github.comments if "<!-- ipecs-reconciler-plan:sites -->" in
                str(c["body"])]
        assert len(ours) == 1 and str(ours[0]["body"]).endswith("second push\n")
        assert github.requests[-1] == f"PATCH /repos/acme/phones/issues/comments/{ours[0]['id']}"
        assert [c["body"] for c in github.comments[:130]] == [
            f"a review remark {n}" for n in range(1, 131)]
        other = _comment(api, plan, "--name", "branch-office")
        assert "added" in other.stdout and len(github.comments) == 132
        plan.write_text("```\n" + "x\n" * 70_000 + "```\n")
        _comment(api, plan, "--name", "huge")
        assert len(str(github.comments[-1]["body"])) <= 65_536
        assert str(github.comments[-1]["body"]).count("```") % 2 == 0


def test_the_comment_script_says_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(REPO / "examples/ci/github/pr_comment.py"),
                             str(tmp_path / "plan.md")], capture_output=True, text=True,
                            env={"PATH": os.environ["PATH"]}, timeout=60)
    assert result.returncode == 1 and "GITHUB_TOKEN is not set" in result.stderr
