#!/usr/bin/env python3
"""ipecs-reconciler's notes in GitLab: the plan comment, the drift issue, the reviewed plan.

    gitlab_notes.py mr-comment plan.md            keep one plan note on the merge request,
                                                  edited in place (found by a hidden marker)
    gitlab_notes.py drift-issue drift.md --exit-code N
                                                  N=2: open the drift issue, or update it;
                                                  N=0: close it; anything else: exit 1
    gitlab_notes.py reviewed-plan --out plan.json the plan file of the merge request this
                                                  commit came from (its last good pipeline)

Standard library only. Environment: GITLAB_TOKEN (a project access token with the
`api` scope: CI_JOB_TOKEN may not write notes), and what GitLab CI sets:
CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, CI_COMMIT_SHA.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

LABEL = "ipecs-drift"


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    comment = commands.add_parser("mr-comment", help="keep one plan note on the merge request")
    comment.add_argument("markdown", help="the plan as markdown")
    comment.add_argument("--name", default="sites", help="which plan note (default: sites)")
    drift = commands.add_parser("drift-issue", help="open, update or close the drift issue")
    drift.add_argument("markdown", help="the plan as markdown")
    drift.add_argument("--exit-code", type=int, required=True,
                       help="reconcile plan --detailed-exitcode's exit code")
    drift.add_argument("--name", default="sites", help="which drift issue (default: sites)")
    reviewed = commands.add_parser("reviewed-plan", help="fetch the merge request's plan file")
    reviewed.add_argument("--out", required=True, help="where to write the plan file")
    reviewed.add_argument("--job", default="plan", help="the job that saved it (default: plan)")
    reviewed.add_argument("--file", default="plan.json", help="its path (default: plan.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    try:
        api = Api(os.environ["CI_API_V4_URL"], os.environ["GITLAB_TOKEN"],
                  os.environ["CI_PROJECT_ID"])
        if args.command == "mr-comment":
            said = mr_comment(api, int(os.environ["CI_MERGE_REQUEST_IID"]),
                              _read(args.markdown), args.name)
        elif args.command == "drift-issue":
            said = drift_issue(api, _read(args.markdown), args.exit_code, args.name)
        else:
            said = reviewed_plan(api, os.environ["CI_COMMIT_SHA"], args.job, args.file,
                                 args.out)
    except KeyError as missing:
        print(f"gitlab_notes: {missing.args[0]} is not set", file=sys.stderr)
        return 1
    except (OSError, ValueError, urllib.error.URLError) as error:
        print(f"gitlab_notes: {error}", file=sys.stderr)
        return 1
    print(f"gitlab_notes: {said}")
    return 0


def mr_comment(api: Api, iid: int, markdown: str, name: str) -> str:
    hidden = f"<!-- ipecs-reconciler-plan:{name} -->"
    body = f"{hidden}\n{markdown}"
    for note in api.pages(f"/merge_requests/{iid}/notes?sort=asc"):
        if hidden in note.get("body", ""):
            api.call("PUT", f"/merge_requests/{iid}/notes/{note['id']}", {"body": body})
            return f"updated the plan note on merge request !{iid}"
    api.call("POST", f"/merge_requests/{iid}/notes", {"body": body})
    return f"added the plan note on merge request !{iid}"


def drift_issue(api: Api, markdown: str, exit_code: int, name: str) -> str:
    hidden = f"<!-- ipecs-reconciler-drift:{name} -->"
    if exit_code not in (0, 2):
        raise ValueError(f"the plan exited {exit_code}: an error, not a drift; see its log")
    query = urllib.parse.urlencode({"state": "opened", "labels": LABEL})
    issue = next((i for i in api.pages(f"/issues?{query}")
                  if hidden in (i.get("description") or "")), None)
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


class Api:
    def __init__(self, url: str, token: str, project: str) -> None:
        self.base = f"{url.rstrip('/')}/projects/{urllib.parse.quote(project, safe='')}"
        self.token = token

    def raw(self, path: str, method: str = "GET", body: dict[str, Any] | None = None
            ) -> bytes:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"PRIVATE-TOKEN": self.token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return bytes(response.read())

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
