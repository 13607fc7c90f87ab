#!/usr/bin/env python3
"""Keep one plan comment on a pull request, edited in place on every push.

    reconcile plan --out plan.json
    reconcile show plan.json --format markdown > plan.md
    python examples/ci/github/pr_comment.py plan.md

The comment is found by a hidden marker (`<!-- ipecs-reconciler-plan:NAME -->`, NAME
from --name, so that several trees or tenants can each keep their own). Without
one, a comment is added. Standard library only: it runs on any runner's Python.

Environment (set by GitHub Actions): GITHUB_TOKEN (with `pull-requests: write`),
GITHUB_REPOSITORY, GITHUB_EVENT_PATH (the pull request's number is read from it,
or give --pr), GITHUB_API_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

#: GitHub refuses a comment body over 65,536 characters.
MAX_BODY = 65_536


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("markdown", help="the plan as markdown (reconcile show --format markdown)")
    parser.add_argument("--name", default="sites", help="which plan comment (default: sites)")
    parser.add_argument("--pr", type=int, help="pull request number (default: from the event)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    try:
        api = Api(os.environ.get("GITHUB_API_URL", "https://api.github.com"),
                  os.environ["GITHUB_TOKEN"], os.environ["GITHUB_REPOSITORY"])
        number = args.pr or pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
        with open(args.markdown, encoding="utf-8") as file:
            body = comment_body(file.read(), args.name)
        action = upsert(api, number, body, marker(args.name))
    except KeyError as missing:
        print(f"pr_comment: {missing.args[0]} is not set", file=sys.stderr)
        return 1
    except (OSError, ValueError, urllib.error.URLError) as error:
        print(f"pr_comment: {error}", file=sys.stderr)
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


class Api:
    def __init__(self, url: str, token: str, repository: str) -> None:
        self.url, self.token, self.repository = url.rstrip("/"), token, repository

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/repos/{self.repository}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}",
                     "Accept": "application/vnd.github+json",
                     "Content-Type": "application/json",
                     "X-GitHub-Api-Version": "2022-11-28"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


def upsert(api: Api, number: int, body: str, hidden: str) -> str:
    page = 1
    while True:
        comments = api.call("GET", f"/issues/{number}/comments?per_page=100&page={page}")
        for comment in comments:
            if hidden in comment.get("body", ""):
                api.call("PATCH", f"/issues/comments/{comment['id']}", {"body": body})
                return "updated"
        if len(comments) < 100:
            break
        page += 1
    api.call("POST", f"/issues/{number}/comments", {"body": body})
    return "added"


if __name__ == "__main__":
    sys.exit(main())
