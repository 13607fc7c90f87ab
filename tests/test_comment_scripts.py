"""The plan-comment scripts play against a hostile pull request and a hostile network
(issue 21, point 3): they edit only the comment the job's own identity wrote, send the
token to the API's host only, retry rate limits and server errors, and never print
the token. Run as CI runs them: a process of their own, against fake forges on
loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_forges import FakeGitHub, FakeGitLab

SCRIPTS = Path(__file__).resolve().parent.parent / "examples" / "ci"
PR_COMMENT = SCRIPTS / "github" / "pr_comment.py"
GITLAB_NOTES = SCRIPTS / "gitlab" / "gitlab_notes.py"
MARKER = "<!-- ipecs-reconciler-plan:sites -->"


def _github(tmp_path: Path, api: str, *args: str, token: str = FakeGitHub.token
            ) -> subprocess.CompletedProcess[str]:
    plan = tmp_path / "plan.md"
    if not plan.exists():
        plan.write_text("### iPECS Cloud plan\n\nPlan: 1 to create.\n")
    return subprocess.run(
        [sys.executable, str(PR_COMMENT), str(plan), "--pr", "7", *args], capture_output=True,
        text=True, timeout=120,
        env={"PATH": os.environ["PATH"], "GITHUB_TOKEN": token, "GITHUB_API_URL": api,
             "GITHUB_REPOSITORY": "acme/phones"})


def _gitlab(tmp_path: Path, api: str, *args: str) -> subprocess.CompletedProcess[str]:
    plan = tmp_path / "plan.md"
    if not plan.exists():
        plan.write_text("### iPECS Cloud plan\n\nPlan: 1 to create.\n")
    return subprocess.run(
        [sys.executable, str(GITLAB_NOTES), *args], capture_output=True, text=True,
        timeout=120, cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "GITLAB_TOKEN": FakeGitLab.token,
             "CI_API_V4_URL": f"{api}/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "3"})


# --- only our own comment ----------------------------------------------------------

def test_a_comment_by_someone_else_holding_the_marker_is_never_edited(tmp_path: Path) -> None:
    github = FakeGitHub()
    planted = {"id": 1, "body": f"{MARKER}\nlooks like the plan", "user": {"login": "mallory"}}
    github.comments.append(planted)
    with github.serving() as api:
        first = _github(tmp_path, api)
        second = _github(tmp_path, api)
    assert first.returncode == second.returncode == 0, first.stderr
    assert planted["body"] == f"{MARKER}\nlooks like the plan"
    ours = [c for c in github.comments if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1 and "1 to create" in ours[0]["body"]  # added once, then edited


def test_a_marker_quoted_inside_another_trees_plan_cannot_redirect_the_edit(
        tmp_path: Path) -> None:
    """Tree `branch`'s comment quotes tree `sites`' marker in its text: the `sites` job
    must not take that comment for its own."""
    github = FakeGitHub()
    with github.serving() as api:
        (tmp_path / "plan.md").write_text(f"a name that quotes {MARKER}\n")
        assert _github(tmp_path, api, "--name", "branch").returncode == 0
        (tmp_path / "plan.md").write_text("the sites plan\n")
        assert _github(tmp_path, api).returncode == 0
    assert len(github.comments) == 2
    assert "quotes" in github.comments[0]["body"] and "sites plan" in github.comments[1]["body"]


def test_the_identity_is_configurable(tmp_path: Path) -> None:
    github = FakeGitHub(login="phones-bot")
    with github.serving() as api:
        for _ in range(2):
            assert _github(tmp_path, api, "--author", "phones-bot").returncode == 0
    assert len(github.comments) == 1


@pytest.mark.parametrize("command", ["mr-comment", "drift-issue"])
def test_gitlab_edits_only_what_its_own_user_wrote(tmp_path: Path, command: str) -> None:
    gitlab = FakeGitLab()
    hidden = MARKER if command == "mr-comment" else "<!-- ipecs-reconciler-drift:sites -->"
    someone = {"username": "mallory"}
    gitlab.notes.append({"id": 1, "body": f"{hidden}\nplanted", "author": someone})
    gitlab.issues.append({"iid": 1, "title": "planted", "state": "opened", "labels":
                          ["ipecs-drift"], "description": f"{hidden}\nplanted", "notes": [],
                          "author": someone})
    args = (["mr-comment", "plan.md"] if command == "mr-comment"
            else ["drift-issue", "plan.md", "--exit-code", "2"])
    with gitlab.serving() as api:
        for _ in range(2):
            done = _gitlab(tmp_path, api, *args)
            assert done.returncode == 0, done.stderr
    assert gitlab.notes[0]["body"] == gitlab.issues[0]["description"] == f"{hidden}\nplanted"
    mine = gitlab.notes[1:] if command == "mr-comment" else gitlab.issues[1:]
    assert len(mine) == 1 and mine[0]["author"] == {"username": "project_42_bot"}


# --- the token goes to the API's host only -----------------------------------------

def test_a_redirect_to_another_host_is_not_followed(tmp_path: Path) -> None:
    github, elsewhere = FakeGitHub(), FakeGitHub()
    with github.serving() as api, elsewhere.serving(host="127.0.0.2") as other:
        github.injected.append((302, {"Location": f"{other}/repos/acme/phones/issues/7/"
                                                  "comments?per_page=100&page=1"}))
        done = _github(tmp_path, api)
    assert done.returncode == 1
    assert "refusing to follow a redirect (302)" in done.stderr and "127.0.0.2" in done.stderr
    assert elsewhere.seen_auth == []  # never even asked


def test_a_redirect_on_the_same_host_is_followed(tmp_path: Path) -> None:
    github = FakeGitHub()
    with github.serving() as api:
        github.injected.append((301, {"Location": f"{api}/repos/acme/phones/issues/7/"
                                                  "comments?per_page=100&page=1"}))
        done = _github(tmp_path, api)
    assert done.returncode == 0, done.stderr and len(github.comments) == 1


@pytest.mark.parametrize("url", ["http://api.github.example", "ftp://127.0.0.1"])
def test_plain_http_is_refused_unless_loopback(tmp_path: Path, url: str) -> None:
    done = _github(tmp_path, url)
    assert done.returncode == 1
    assert "refusing to send the token to" in done.stderr and "Traceback" not in done.stderr
    gitlab = _gitlab(tmp_path, url, "mr-comment", "plan.md")
    assert gitlab.returncode == 1 and "refusing to send the token to" in gitlab.stderr


# --- rate limits and server errors -------------------------------------------------

@pytest.mark.slow  # waits out a real Retry-After and a backoff
@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(
        tmp_path: Path, forge: str) -> None:
    fake = FakeGitHub() if forge == "github" else FakeGitLab()
    fake.injected += [(429, {"Retry-After": "1"}), (503, {}), (502, {"Retry-After": "0"})]
    with fake.serving() as api:
        started = time.monotonic()
        done = (_github(tmp_path, api) if forge == "github"
                else _gitlab(tmp_path, api, "mr-comment", "plan.md"))
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert [r.split(" -> ")[1] for r in fake.requests if " -> " in r] == ["429", "503", "502"]
    assert took >= 2.0  # Retry-After's 1 s, then 1 s of backoff for the 503
    notes = fake.comments if isinstance(fake, FakeGitHub) else fake.notes
    assert len(notes) == 1


def test_a_client_error_is_not_retried(tmp_path: Path) -> None:
    github = FakeGitHub()
    github.injected.append((403, {}))
    with github.serving() as api:
        done = _github(tmp_path, api)
    assert done.returncode == 1 and "403" in done.stderr
    assert len(github.requests) == 1


# --- the token is never printed ----------------------------------------------------

def test_the_token_is_never_printed(tmp_path: Path) -> None:
    """A proxy or server that echoes the token in its answer (here the status line's
    reason) does not get it into the job's log."""
    token = "ghs_s3cretTokenValue"
    github = FakeGitHub()
    github.token = token
    github.injected.append((400, {"Reason": f"bad credentials {token}"}))
    with github.serving() as api:
        done = _github(tmp_path, api, token=token)
    assert done.returncode == 1 and "bad credentials ***" in done.stderr
    assert token not in done.stdout + done.stderr


def test_both_scripts_carry_the_same_http_code() -> None:
    """Each script is copied into a repository on its own, so the HTTP part (the token
    to the API's host only, retries) is written in both: held identical here, so a fix
    to one cannot miss the other."""
    def http_part(path: Path) -> str:
        text = path.read_text()
        start = text.index("# --- HTTP: the token to the API's host only")
        body = text[start:text.index("\nclass Api:", start)]
        return "\n".join(body.splitlines()[2:])  # past the heading that names the other

    assert http_part(PR_COMMENT) == http_part(GITLAB_NOTES)
