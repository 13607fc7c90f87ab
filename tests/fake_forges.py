"""GitHub's and GitLab's REST endpoints, as far as our CI scripts use them, on loopback.

Neither forge can be reached from the tests, and the scripts' logic (find our one
comment by its marker, page through lists, pick the reviewed plan) is ours to
prove. Each fake keeps plain lists a test can look at, and records every request.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

Route = Callable[[re.Match[str], dict[str, list[str]], dict[str, Any]], tuple[int, Any]]


class FakeForge:
    token_header = ""
    token = "t0ken"

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.routes: list[tuple[str, re.Pattern[str], Route]] = []
        #: Answers given before any route, one a request: (status, headers), e.g.
        #: (429, {"Retry-After": "1"}), (503, {}) or (302, {"Location": url}); a
        #: "Reason" header is sent as the status line's reason phrase instead.
        self.injected: list[tuple[int, dict[str, str]]] = []
        self.seen_auth: list[str] = []  # the credential header of every request

    def route(self, method: str, pattern: str, handler: Route) -> None:
        self.routes.append((method, re.compile(pattern + r"$"), handler))

    def answer(self, method: str, raw_path: str, body: dict[str, Any]) -> tuple[int, Any]:
        url = urlparse(raw_path)
        self.requests.append(f"{method} {unquote(url.path)}")
        for want, pattern, handler in self.routes:
            match = pattern.match(unquote(url.path))
            if want == method and match:
                return handler(match, parse_qs(url.query), body)
        return 404, {"message": f"no fake for {method} {url.path}"}

    @contextmanager
    def serving(self, host: str = "127.0.0.1") -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                fake.seen_auth.append(self.headers.get(fake.token_header, ""))
                if fake.injected:
                    status, headers = fake.injected.pop(0)
                    headers = dict(headers)
                    fake.requests.append(f"{self.command} {unquote(self.path)} -> {status}")
                    self.send_response(status, headers.pop("Reason", None))
                    for name, value in {**headers, "Content-Length": "0"}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                if self.headers.get(fake.token_header, "") != fake.expected_auth():
                    status, answer = 401, {"message": "bad token"}
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length)) if length else {}
                    status, answer = fake.answer(self.command, self.path, body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _serve

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://{host}:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()

    def expected_auth(self) -> str:
        return self.token


def _page(items: list[Any], query: dict[str, list[str]]) -> list[Any]:
    page, size = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
    return items[(page - 1) * size:page * size]


class FakeGitHub(FakeForge):
    """Issue comments of one repository."""

    token_header = "Authorization"

    def __init__(self, login: str = "github-actions[bot]") -> None:
        super().__init__()
        self.login = login  # who the token writes as
        self.comments: list[dict[str, Any]] = []
        repo = r"/repos/(?P<repo>[^/]+/[^/]+)"
        self.route("GET", repo + r"/issues/\d+/comments",
                   lambda m, q, b: (200, _page(self.comments, q)))
        self.route("POST", repo + r"/issues/\d+/comments", self._add)
        self.route("PATCH", repo + r"/issues/comments/(?P<id>\d+)", self._edit)

    def expected_auth(self) -> str:
        return f"Bearer {self.token}"

    def _add(self, match: re.Match[str], query: Any, body: dict[str, Any]) -> tuple[int, Any]:
        comment = {"id": len(self.comments) + 1, "body": body["body"],
                   "user": {"login": self.login}}
        self.comments.append(comment)
        return 201, comment

    def _edit(self, match: re.Match[str], query: Any, body: dict[str, Any]) -> tuple[int, Any]:
        comment = next(c for c in self.comments if c["id"] == int(match["id"]))
        comment["body"] = body["body"]
        return 200, comment


class FakeGitLab(FakeForge):
    """One project's merge-request notes, issues, merged commits, pipelines, jobs and
    artifacts."""

    token_header = "PRIVATE-TOKEN"

    def __init__(self, project: str = "42", username: str = "project_42_bot") -> None:
        super().__init__()
        self.username = username  # who the token writes as
        self.notes: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.merge_requests: list[dict[str, Any]] = []
        self.merged: dict[str, list[dict[str, Any]]] = {}  # commit sha -> merge requests
        self.pipelines: dict[int, list[dict[str, Any]]] = {}  # MR iid -> newest first
        self.jobs: dict[int, list[dict[str, Any]]] = {}  # pipeline id -> jobs
        self.artifacts: dict[tuple[int, str], bytes] = {}  # (job id, path) -> bytes
        base = f"/api/v4/projects/{project}"
        self.route("GET", "/api/v4/user", lambda m, q, b: (200, {"username": self.username}))
        self.route("GET", base + r"/merge_requests/\d+/notes",
                   lambda m, q, b: (200, _page(self.notes, q)))
        self.route("POST", base + r"/merge_requests/\d+/notes", self._add_note)
        self.route("PUT", base + r"/merge_requests/\d+/notes/(?P<id>\d+)", self._edit_note)
        self.route("GET", base + r"/issues", self._list_issues)
        self.route("POST", base + r"/issues", self._open_issue)
        self.route("PUT", base + r"/issues/(?P<iid>\d+)", self._edit_issue)
        self.route("POST", base + r"/issues/(?P<iid>\d+)/notes", self._issue_note)
        self.route("GET", base + r"/merge_requests", self._list_merge_requests)
        self.route("POST", base + r"/merge_requests", self._open_merge_request)
        self.route("PUT", base + r"/merge_requests/(?P<iid>\d+)", self._edit_merge_request)
        self.route("GET", base + r"/repository/commits/(?P<sha>\w+)/merge_requests",
                   lambda m, q, b: (200, self.merged.get(m["sha"], [])))
        self.route("GET", base + r"/merge_requests/(?P<iid>\d+)/pipelines",
                   lambda m, q, b: (200, _page(self.pipelines.get(int(m["iid"]), []), q)))
        self.route("GET", base + r"/pipelines/(?P<id>\d+)/jobs", self._jobs)
        self.route("GET", base + r"/jobs/(?P<id>\d+)/artifacts/(?P<path>.+)", self._artifact)

    def _add_note(self, match: re.Match[str], query: Any, body: dict[str, Any]
                  ) -> tuple[int, Any]:
        note = {"id": 100 + len(self.notes), "body": body["body"],
                "author": {"username": self.username}}
        self.notes.append(note)
        return 201, note

    def _edit_note(self, match: re.Match[str], query: Any, body: dict[str, Any]
                   ) -> tuple[int, Any]:
        note = next(n for n in self.notes if n["id"] == int(match["id"]))
        note["body"] = body["body"]
        return 200, note

    def _list_issues(self, match: re.Match[str], query: dict[str, list[str]], body: Any
                     ) -> tuple[int, Any]:
        found = [i for i in self.issues if i["state"] == query["state"][0]
                 and query["labels"][0] in i["labels"]]
        return 200, _page(found, query)

    def _open_issue(self, match: re.Match[str], query: Any, body: dict[str, Any]
                    ) -> tuple[int, Any]:
        issue = {"iid": len(self.issues) + 1, "title": body["title"], "state": "opened",
                 "description": body["description"], "labels": body["labels"].split(","),
                 "notes": [], "author": {"username": self.username}}
        self.issues.append(issue)
        return 201, issue

    def _edit_issue(self, match: re.Match[str], query: Any, body: dict[str, Any]
                    ) -> tuple[int, Any]:
        issue = self.issues[int(match["iid"]) - 1]
        if body.get("state_event") == "close":
            issue["state"] = "closed"
        if "description" in body:
            issue["description"] = body["description"]
        return 200, issue

    def _list_merge_requests(self, match: re.Match[str], query: dict[str, list[str]],
                             body: Any) -> tuple[int, Any]:
        found = [r for r in self.merge_requests if r["state"] == query["state"][0]
                 and r["source_branch"] == query["source_branch"][0]]
        return 200, _page(found, query)

    def _open_merge_request(self, match: re.Match[str], query: Any, body: dict[str, Any]
                            ) -> tuple[int, Any]:
        request = {"iid": len(self.merge_requests) + 1, "state": "opened",
                   "author": {"username": self.username}, **body}
        self.merge_requests.append(request)
        return 201, request

    def _edit_merge_request(self, match: re.Match[str], query: Any, body: dict[str, Any]
                            ) -> tuple[int, Any]:
        request = self.merge_requests[int(match["iid"]) - 1]
        if body.get("state_event") == "close":
            request["state"] = "closed"
        if "description" in body:
            request["description"] = body["description"]
        return 200, request

    def _issue_note(self, match: re.Match[str], query: Any, body: dict[str, Any]
                    ) -> tuple[int, Any]:
        self.issues[int(match["iid"]) - 1]["notes"].append(body["body"])
        return 201, {"body": body["body"]}

    def _jobs(self, match: re.Match[str], query: dict[str, list[str]], body: Any
              ) -> tuple[int, Any]:
        jobs = self.jobs.get(int(match["id"]), [])
        wanted = query.get("scope[]")
        return 200, _page([j for j in jobs if not wanted or j["status"] in wanted], query)

    def _artifact(self, match: re.Match[str], query: Any, body: Any) -> tuple[int, Any]:
        data = self.artifacts.get((int(match["id"]), match["path"]))
        return (200, data) if data is not None else (404, {"message": "404 Not Found"})
