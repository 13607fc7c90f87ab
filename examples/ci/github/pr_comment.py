#!/usr/bin/env python3
"""Keep one plan comment on a pull request, edited in place on every push.

    reconcile plan --out plan.json
    reconcile show plan.json --format markdown > plan.md
    python examples/ci/github/pr_comment.py plan.md

The comment is ours if the job's own identity wrote it (--author, default
`github-actions[bot]`, the identity of GITHUB_TOKEN) and it starts with a hidden
marker (`<!-- ipecs-reconciler-plan:NAME -->`, NAME from --name, so that several
trees or tenants can each keep their own). Anyone else's comment, or a marker
anywhere but at the start, is never edited: a plan (or a person) quoting another
tree's marker cannot make this job overwrite that tree's comment. Without one, a
comment is added. Standard library only: it runs on any runner's Python.

The token goes only to GITHUB_API_URL: HTTPS unless it is loopback, and a redirect
to another host is refused, never followed. Rate limits (429) and server errors
(5xx) are retried with backoff, honouring Retry-After. The token is never printed.

Environment (set by GitHub Actions): GITHUB_TOKEN (with `pull-requests: write`),
GITHUB_REPOSITORY, GITHUB_EVENT_PATH (the pull request's number is read from it,
or give --pr), GITHUB_API_URL; PLAN_COMMENT_AUTHOR for --author.
"""

from __future__ import annotations

import argparse
import email.utils
import ipaddress
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

#: GitHub refuses a comment body over 65,536 characters.
MAX_BODY = 65_536


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("markdown", help="the plan as markdown (reconcile show --format markdown)")
    parser.add_argument("--name", default="sites", help="which plan comment (default: sites)")
    parser.add_argument("--pr", type=int, help="pull request number (default: from the event)")
    parser.add_argument("--author", default=os.environ.get("PLAN_COMMENT_AUTHOR")
                        or "github-actions[bot]",
                        help="the login the job's token comments as; only its comment is "
                             "edited (default: $PLAN_COMMENT_AUTHOR, else github-actions[bot])")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    try:
        api = Api(os.environ.get("GITHUB_API_URL", "https://api.github.com"),
                  os.environ["GITHUB_TOKEN"], os.environ["GITHUB_REPOSITORY"])
        number = args.pr or pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
        with open(args.markdown, encoding="utf-8") as file:
            body = comment_body(file.read(), args.name)
        action = upsert(api, number, body, marker(args.name), args.author)
    except KeyError as missing:
        print(f"pr_comment: {missing.args[0]} is not set", file=sys.stderr)
        return 1
    except (OSError, ValueError, urllib.error.URLError) as error:
        print(f"pr_comment: {redacted(str(error), token)}", file=sys.stderr)
        return 1
    print(f"pr_comment: {action} the plan comment on pull request #{number}")
    return 0


def marker(name: str) -> str:
    return f"<!-- ipecs-reconciler-plan:{name} -->"


def comment_body(markdown: str, name: str) -> str:
    head = marker(name) + "\n"
    note = ("\n\n> The plan is too long for a comment; the whole plan is in the job's "
            "summary and its saved plan artifact.\n")
    if len(head) + len(markdown) <= MAX_BODY:
        return head + markdown
    kept = markdown[:MAX_BODY - len(head) - len(note) - 4].rsplit("\n", 1)[0] + "\n"
    if kept.count("```") % 2:
        kept += "```"
    return head + kept + note


def pull_request_number(event_path: str | None) -> int:
    if not event_path:
        raise ValueError("no --pr and no GITHUB_EVENT_PATH: which pull request?")
    with open(event_path, encoding="utf-8") as file:
        event = json.load(file)
    number = event.get("pull_request", {}).get("number") or event.get("number")
    if not isinstance(number, int):
        raise ValueError(f"{event_path} is not a pull request event; give --pr")
    return number


# --- HTTP: the token to the API's host only, retried politely -----------------------
# (the same in gitlab_notes.py: each script is copied into a repository on its own)

RETRIES = 5
MOST_WAIT_SECONDS = 60.0


def redacted(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def checked_api_url(url: str) -> str:
    """The API's URL, if the token may be sent there: HTTPS, or HTTP on loopback only."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and _loopback(parts.hostname or ""):
        return url.rstrip("/")
    raise ValueError(f"refusing to send the token to {parts.scheme}://{parts.hostname}: the "
                     "API URL must be https:// (http:// only on this machine's loopback)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect on the same scheme, host and port only: urllib would send
    the Authorization header on to any host a redirect names."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        old, new = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise urllib.error.URLError(
                f"refusing to follow a redirect ({code}) from {old.hostname} to "
                f"{new.scheme}://{new.hostname}: the token is sent to the API's host only")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SameHostRedirects)


def send(request: urllib.request.Request, timeout: float) -> bytes:
    """The response's body; 429 and 5xx retried with backoff, honouring Retry-After."""
    for attempt in range(RETRIES):
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            if (error.code != 429 and error.code < 500) or attempt == RETRIES - 1:
                raise
            time.sleep(_wait(error.headers.get("Retry-After"), attempt))
    raise AssertionError("unreachable")


def _wait(retry_after: str | None, attempt: int) -> float:
    backoff = float(2 ** attempt)
    if retry_after:
        try:
            return min(max(float(retry_after), 0.0), MOST_WAIT_SECONDS)
        except ValueError:
            when = email.utils.parsedate_to_datetime(retry_after)
            if when is not None:
                return min(max(when.timestamp() - time.time(), 0.0), MOST_WAIT_SECONDS)
    return min(backoff, MOST_WAIT_SECONDS)


class Api:
    def __init__(self, url: str, token: str, repository: str) -> None:
        self.url, self.token, self.repository = checked_api_url(url), token, repository

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/repos/{self.repository}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}",
                     "Accept": "application/vnd.github+json",
                     "Content-Type": "application/json",
                     "X-GitHub-Api-Version": "2022-11-28"})
        return json.loads(send(request, timeout=30) or b"null")


def ours(comment: dict[str, Any], hidden: str, author: str) -> bool:
    """Written by the job's identity, and starting with this tree's marker."""
    login = (comment.get("user") or {}).get("login")
    return login == author and str(comment.get("body", "")).startswith(hidden + "\n")


def upsert(api: Api, number: int, body: str, hidden: str, author: str) -> str:
    page = 1
    while True:
        comments = api.call("GET", f"/issues/{number}/comments?per_page=100&page={page}")
        for comment in comments:
            if ours(comment, hidden, author):
                api.call("PATCH", f"/issues/comments/{comment['id']}", {"body": body})
                return "updated"
        if len(comments) < 100:
            break
        page += 1
    api.call("POST", f"/issues/{number}/comments", {"body": body})
    return "added"


if __name__ == "__main__":
    sys.exit(main())
