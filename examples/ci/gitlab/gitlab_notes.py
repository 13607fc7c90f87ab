#!/usr/bin/env python3
"""ipecs-reconciler's notes in GitLab: the plan comment, the drift issue, the reviewed plan.

    gitlab_notes.py mr-comment plan.md            keep one plan note on the merge request,
                                                  edited in place (found by a hidden marker)
    gitlab_notes.py drift-mr drift.md --exit-code N [--branch ipecs-drift]
                                                  N=2: open the drift merge request (its
                                                  branch pushed), or update it; N=0:
                                                  close it
    gitlab_notes.py drift-issue drift.md --exit-code N
                                                  N=2: open the drift issue, or update it;
                                                  N=0: close it; anything else: exit 1
    gitlab_notes.py reviewed-plan --out plan.json the plan file of the merge request this
                                                  commit came from (its last good pipeline)

A note or drift issue is ours only if the token's own user wrote it (asked of the
API, or --author / PLAN_NOTE_AUTHOR) and it starts with the hidden marker: anyone
else's, or a marker quoted anywhere but at the start, is never edited, so one tree's
job cannot overwrite another's note.

The token goes only to CI_API_V4_URL: HTTPS unless it is loopback, and a redirect to
another host is refused, never followed. Rate limits (429) and server errors (5xx)
are retried with backoff, honouring Retry-After. The token is never printed.

Standard library only. Environment: GITLAB_TOKEN (a project access token with the
`api` scope: CI_JOB_TOKEN may not write notes), and what GitLab CI sets:
CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, CI_COMMIT_SHA.
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

LABEL = "ipecs-drift"


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--author", default=os.environ.get("PLAN_NOTE_AUTHOR") or None,
                        help="the username the token writes as; only its notes and issues "
                             "are edited (default: $PLAN_NOTE_AUTHOR, else asked of the API)")
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("mr-comment", help="keep one plan note on the merge request")
    comment.add_argument("markdown", help="the plan as markdown")
    comment.add_argument("--name", default="sites", help="which plan note (default: sites)")
    drift = commands.add_parser("drift-issue", help="open, update or close the drift issue")
    drift.add_argument("markdown", help="the plan as markdown")
    drift.add_argument("--exit-code", type=int, required=True,
                       help="reconcile plan --detailed-exitcode's exit code")
    drift.add_argument("--name", default="sites", help="which drift issue (default: sites)")
    request = commands.add_parser("drift-mr", help="open, update or close the drift merge "
                                                   "request (its branch pushed already)")
    request.add_argument("markdown", help="the plan that found the drift, as markdown")
    request.add_argument("--exit-code", type=int, required=True,
                         help="reconcile plan --detailed-exitcode's exit code")
    request.add_argument("--branch", default="ipecs-drift", help="its source branch")
    request.add_argument("--target", default=os.environ.get("CI_DEFAULT_BRANCH", "main"),
                         help="the branch it merges into (default: $CI_DEFAULT_BRANCH)")
    request.add_argument("--name", default="sites", help="which drift (default: sites)")
    reviewed = commands.add_parser("reviewed-plan", help="fetch the merge request's plan file")
    reviewed.add_argument("--out", required=True, help="where to write the plan file")
    reviewed.add_argument("--job", default="plan", help="the job that saved it (default: plan)")
    reviewed.add_argument("--file", default="plan.json", help="its path (default: plan.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    token = os.environ.get("GITLAB_TOKEN", "")
    try:
        api = Api(os.environ["CI_API_V4_URL"], os.environ["GITLAB_TOKEN"],
                  os.environ["CI_PROJECT_ID"])
        if args.command == "mr-comment":
            said = mr_comment(api, int(os.environ["CI_MERGE_REQUEST_IID"]),
                              _read(args.markdown), args.name, args.author or api.whoami())
        elif args.command == "drift-issue":
            said = drift_issue(api, _read(args.markdown), args.exit_code, args.name,
                               args.author or api.whoami())
        elif args.command == "drift-mr":
            said = drift_mr(api, _read(args.markdown), args.exit_code, args.branch,
                            args.target, args.name, args.author or api.whoami())
        else:
            said = reviewed_plan(api, os.environ["CI_COMMIT_SHA"], args.job, args.file,
                                 args.out)
    except KeyError as missing:
        print(f"gitlab_notes: {missing.args[0]} is not set", file=sys.stderr)
        return 1
    except (OSError, ValueError, urllib.error.URLError) as error:
        print(f"gitlab_notes: {redacted(str(error), token)}", file=sys.stderr)
        return 1
    print(f"gitlab_notes: {said}")
    return 0


def ours(item: dict[str, Any], text: str, hidden: str, author: str) -> bool:
    """Written by the token's own user, and starting with this tree's marker."""
    username = (item.get("author") or {}).get("username")
    return username == author and str(item.get(text) or "").startswith(hidden + "\n")


def mr_comment(api: Api, iid: int, markdown: str, name: str, author: str) -> str:
    hidden = f"<!-- ipecs-reconciler-plan:{name} -->"
    body = f"{hidden}\n{markdown}"
    for note in api.pages(f"/merge_requests/{iid}/notes?sort=asc"):
        if ours(note, "body", hidden, author):
            api.call("PUT", f"/merge_requests/{iid}/notes/{note['id']}", {"body": body})
            return f"updated the plan note on merge request !{iid}"
    api.call("POST", f"/merge_requests/{iid}/notes", {"body": body})
    return f"added the plan note on merge request !{iid}"


def drift_issue(api: Api, markdown: str, exit_code: int, name: str, author: str) -> str:
    hidden = f"<!-- ipecs-reconciler-drift:{name} -->"
    if exit_code not in (0, 2):
        raise ValueError(f"the plan exited {exit_code}: an error, not a drift; see its log")
    query = urllib.parse.urlencode({"state": "opened", "labels": LABEL})
    issue = next((i for i in api.pages(f"/issues?{query}")
                  if ours(i, "description", hidden, author)), None)
    if exit_code == 0:
        if issue is None:
            return "no drift, and no drift issue open"
        api.call("POST", f"/issues/{issue['iid']}/notes",
                 {"body": "No drift any more: the tenant matches the default branch."})
        api.call("PUT", f"/issues/{issue['iid']}", {"state_event": "close"})
        return f"closed drift issue #{issue['iid']}"
    description = f"{hidden}\n{markdown}"
    if issue is not None:
        api.call("PUT", f"/issues/{issue['iid']}", {"description": description})
        api.call("POST", f"/issues/{issue['iid']}/notes",
                 {"body": "Still drifted; the description holds today's plan."})
        return f"updated drift issue #{issue['iid']}"
    created = api.call("POST", "/issues", {
        "title": f"The phone tenant has drifted from the default branch ({name})",
        "description": description, "labels": LABEL})
    return f"opened drift issue #{created['iid']}"


def drift_mr(api: Api, markdown: str, exit_code: int, branch: str, target: str, name: str,
             author: str) -> str:
    """The merge request carrying `reconcile import --update`'s edit: opened or updated on
    a drift (2), closed when the tenant matches again (0)."""
    hidden = f"<!-- ipecs-reconciler-drift-mr:{name} -->"
    if exit_code not in (0, 2):
        raise ValueError(f"the plan exited {exit_code}: an error, not a drift; see its log")
    query = urllib.parse.urlencode({"state": "opened", "source_branch": branch})
    request = next((m for m in api.pages(f"/merge_requests?{query}")
                    if ours(m, "description", hidden, author)), None)
    if exit_code == 0:
        if request is None:
            return "no drift, and no drift merge request open"
        api.call("PUT", f"/merge_requests/{request['iid']}", {"state_event": "close"})
        return f"closed drift merge request !{request['iid']}"
    description = f"{hidden}\n{markdown}"
    if request is not None:
        api.call("PUT", f"/merge_requests/{request['iid']}", {"description": description})
        return f"updated drift merge request !{request['iid']}"
    created = api.call("POST", "/merge_requests", {
        "source_branch": branch, "target_branch": target, "labels": LABEL,
        "title": f"The phone tenant changed outside git: bring it back ({name})",
        "description": description, "remove_source_branch": True})
    return f"opened drift merge request !{created['iid']}"


def reviewed_plan(api: Api, sha: str, job_name: str, file: str, out: str) -> str:
    merged = [mr for mr in api.call("GET", f"/repository/commits/{sha}/merge_requests")
              if mr.get("state") == "merged"]
    if not merged:
        raise ValueError(f"{sha} was merged by no merge request: no plan was reviewed; run "
                         "the pipeline by hand to plan and approve")
    iid = merged[0]["iid"]
    for pipeline in api.pages(f"/merge_requests/{iid}/pipelines"):  # newest first
        if pipeline.get("status") != "success":
            continue
        jobs = api.pages(f"/pipelines/{pipeline['id']}/jobs?scope[]=success")
        job = next((j for j in jobs if j.get("name") == job_name), None)
        if job is not None:
            data = api.raw(f"/jobs/{job['id']}/artifacts/{urllib.parse.quote(file)}")
            with open(out, "wb") as plan:
                plan.write(data)
            return (f"wrote {out}: the plan of merge request !{iid}, pipeline "
                    f"{pipeline['id']} ({str(pipeline.get('sha', ''))[:12]})")
    raise ValueError(f"merge request !{iid} has no successful pipeline with a `{job_name}` "
                     "job (a fork's is planned against a fixture only); run the pipeline by "
                     "hand to plan and approve")


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as file:
        return file.read()


# --- HTTP: the token to the API's host only, retried politely -----------------------
# (the same in pr_comment.py: each script is copied into a repository on its own)

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
    def __init__(self, url: str, token: str, project: str) -> None:
        self.url = checked_api_url(url)
        self.base = f"{self.url}/projects/{urllib.parse.quote(project, safe='')}"
        self.token = token

    def whoami(self) -> str:
        """The username the token writes as (a project access token's bot user)."""
        request = urllib.request.Request(f"{self.url}/user",
                                         headers={"PRIVATE-TOKEN": self.token})
        user = json.loads(send(request, timeout=60) or b"null")
        if not isinstance(user, dict) or not user.get("username"):
            raise ValueError("the API did not say whose the token is; give --author")
        return str(user["username"])

    def raw(self, path: str, method: str = "GET", body: dict[str, Any] | None = None
            ) -> bytes:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"PRIVATE-TOKEN": self.token, "Content-Type": "application/json"})
        return send(request, timeout=60)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return json.loads(self.raw(path, method, body) or b"null")

    def pages(self, path: str) -> list[Any]:
        found: list[Any] = []
        joiner = "&" if "?" in path else "?"
        page = 1
        while True:
            batch = self.call("GET", f"{path}{joiner}per_page=100&page={page}")
            found += batch
            if len(batch) < 100:
                return found
            page += 1


if __name__ == "__main__":
    sys.exit(main())
