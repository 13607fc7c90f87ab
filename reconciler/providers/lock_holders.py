"""Who holds a tenant's lock: enough for a second apply to say whom to wait for.

Recorded when an apply takes the lock (in the lock file, or the tenant's lock
row on a server) and shown to anyone who finds the tenant locked. The command
line is recorded with any URL password masked, so the record leaks no secret.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from reconciler.runtime.redaction import redact_url

# Where CI systems publish the address of the running job.
_CI_JOB_URLS = ("CI_JOB_URL", "BUILD_URL", "BUILDKITE_BUILD_URL", "CIRCLE_BUILD_URL")


@dataclass(frozen=True, slots=True)
class LockHolder:
    host: str
    pid: int
    user: str
    command: str
    ci_job_url: str | None
    started_at: str

    @classmethod
    def current(cls) -> LockHolder:
        return cls(
            host=socket.gethostname(),
            pid=os.getpid(),
            user=_user(),
            command=" ".join(["reconcile", *(redact_url(arg) for arg in sys.argv[1:])]),
            ci_job_url=ci_job_url(dict(os.environ)),
            started_at=now(),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        """The holder a lock records, or None if the record is unreadable (a holder
        killed while writing it, or a lock made by an older version)."""
        try:
            data = json.loads(text)
            return cls(str(data["host"]), int(data["pid"]), str(data["user"]),
                       str(data["command"]), data.get("ci_job_url"), str(data["started_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    def who(self) -> str:
        """Short: for the apply journal and plan headers."""
        job = f", {self.ci_job_url}" if self.ci_job_url else ""
        return f"{self.user}@{self.host} pid {self.pid}{job}"

    def describe(self) -> str:
        job = f", CI job {self.ci_job_url}" if self.ci_job_url else ""
        return (f"`{self.command}` (pid {self.pid} on {self.host}, user {self.user}{job}) "
                f"since {self.started_at}")


def ci_job_url(environ: dict[str, str]) -> str | None:
    """The running CI job's address, from the variables CI systems set."""
    if environ.get("GITHUB_RUN_ID") and environ.get("GITHUB_REPOSITORY"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{environ['GITHUB_REPOSITORY']}/actions/runs/{environ['GITHUB_RUN_ID']}"
    return next((environ[name] for name in _CI_JOB_URLS if environ.get(name)), None)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for this uid (some containers)
        return str(os.getuid())
