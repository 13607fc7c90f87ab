"""A cold load split over two processes (`reconciler/cache_warming.py`): a forked
child reads the later half of the files the cache lacks and stores their entries,
the parent reads the rest and then finds the child's files in the cache. Users see
what one process would have shown; a child that fails only costs time.

Run as processes of their own, as users run them (forking the test runner would
take the one-process path). RECONCILER_PARALLEL=on forks at any size."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.processes import reconcile, start, stopped_child

BAD_FILE = """
users:
  - extension: "7001"
    name: Fine
    package: Empty User Pack
    devices: ["1030"]
  - extension: "70x2"
    name: Broken
    package: Empty User Pack
    devices: ["1030"]
"""


def _more_sites(sites: Path, count: int = 6) -> None:
    """Sites after Main in tree order, so the child gets some of them."""
    for index in range(count):
        folder = sites / f"Site{index}"
        folder.mkdir()
        number = 7100 + index * 10
        (folder / "users.yaml").write_text("users:\n" + "".join(
            f'  - extension: "{number + n}"\n    name: User {number + n}\n'
            '    package: Empty User Pack\n    devices: ["1030"]\n' for n in range(3)))


def _run(command: str, sites: Path, mode: str, **extra: str) -> tuple[int, str, str]:
    done = reconcile(command, str(sites), "--verbose", cwd=sites.parent,
                     tenant=sites.parent / "tenant.db", RECONCILER_PARALLEL=mode, **extra)
    return done.returncode, done.stdout, done.stderr


def _site_files(sites: Path) -> int:
    return sum(1 for path in sites.rglob("*.yaml") if path.name != "tenant.yaml")


def _given(err: str) -> int:
    """How many files the child read, from the --verbose line."""
    return int(err.split("; ")[1].split(" file(s) read by")[0])


def _fresh(sites: Path) -> None:
    """A cold start: no cache entries (the key stays)."""
    for entry in (sites.parent / ".reconciler" / "cache").glob("*/*"):
        entry.unlink()


def _without_cache_line(result: tuple[int, str, str]) -> tuple[int, str, str]:
    code, out, err = result
    return code, out, "\n".join(line for line in err.splitlines() if not line.startswith("cache:"))


@pytest.fixture
def sites(example_sites: Path) -> Path:
    for name in ("Main/users.yaml", "Main/shared-lines.yaml"):
        (example_sites / name).write_text((example_sites / name).read_text())
    _more_sites(example_sites)
    example_sites.joinpath("tenant.yaml").write_text(
        example_sites.joinpath("tenant.yaml").read_text().replace(
            "Empty User Pack: 27", "Empty User Pack: 60"))
    return example_sites


@pytest.mark.parametrize("command", ["plan", "validate"])
def test_a_cold_run_reads_the_same_in_two_processes(sites: Path, command: str) -> None:
    one = _run(command, sites, "off")
    _fresh(sites)
    two = _run(command, sites, "on")
    assert one[0] == 0, one[2]
    assert _without_cache_line(two) == _without_cache_line(one)
    assert _given(two[2]) >= 1 and "second process" not in one[2]
    warm = _run(command, sites, "on")  # everything either process read was stored
    files = _site_files(sites)
    assert f"cache: {files} hit(s), 0 miss(es), 0 error(s), 0 written" in warm[2]
    assert _without_cache_line(warm) == _without_cache_line(one)


def test_a_file_with_a_problem_is_reported_whoever_read_it(sites: Path) -> None:
    (sites / "Site5" / "users.yaml").write_text(BAD_FILE)  # the last file is the child's
    one = _run("plan", sites, "off")
    _fresh(sites)
    two = _run("plan", sites, "on")
    assert one[0] == 1 and "70x2" in one[2] and _given(two[2]) >= 1
    assert _without_cache_line(two) == _without_cache_line(one)


@pytest.mark.parametrize("failure", ["kill", "error"])
def test_a_child_that_fails_only_costs_time(sites: Path, failure: str) -> None:
    one = _run("plan", sites, "off")
    _fresh(sites)
    failed = _run("plan", sites, "on", RECONCILER_FAILPOINT=f"warming-child:{failure}")
    assert _without_cache_line(failed) == _without_cache_line(one)
    files = _site_files(sites)  # the parent read every file itself
    assert f"cache: 0 hit(s), {files} miss(es), 0 error(s), {files} written" in failed[2]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_the_parent_waits_for_a_file_the_child_took(sites: Path) -> None:
    one = _run("plan", sites, "off")
    _fresh(sites)
    # The child stops right after taking its first file (the last one): the parent,
    # reaching that file, must wait for the child rather than read it too.
    process = start("plan", str(sites), "--verbose", cwd=sites.parent,
                    tenant=sites.parent / "tenant.db", RECONCILER_PARALLEL="on",
                    RECONCILER_FAILPOINT="warming-child-took:pause")
    try:
        child = stopped_child(process.pid)
        assert child is not None, "no second process read files"
        time.sleep(1.0)
        assert process.poll() is None
        while child is not None:  # it stops again at each file it takes
            os.kill(child, signal.SIGCONT)
            child = stopped_child(process.pid, timeout=2)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert _without_cache_line((process.returncode, out, err)) == _without_cache_line(one)
    given, files = _given(err), _site_files(sites)  # it found the child's files stored
    assert 0 < given < files
    assert f"cache: {given} hit(s), {files - given} miss(es), 0 error(s), " \
           f"{files - given} written" in err


def _gone(pid: int, timeout: float = 10) -> bool:
    """Ended: no such process, or a zombie waiting for whoever adopted it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_parent_killed_outright_leaves_no_child_behind(sites: Path) -> None:
    # CI's last resort is SIGKILL, which the parent cannot pass on: the child must go
    # with it, even stopped (a `pause` failpoint) in the middle of its work.
    process = start("plan", str(sites), cwd=sites.parent, tenant=sites.parent / "tenant.db",
                    RECONCILER_PARALLEL="on", RECONCILER_FAILPOINT="warming-child:pause")
    child = stopped_child(process.pid)
    try:
        assert child is not None, "no second process read files"
        process.kill()
        process.wait()
        assert _gone(child)
    finally:
        if child is not None and not _gone(child, timeout=0):
            os.kill(child, signal.SIGKILL)


def test_the_split_reads_no_file_unbounded(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Deciding which files to share reads them as every config read does: a FIFO put
    in place of a site file after the tree was scanned is refused, not waited on for
    ever (nor is a file over the size limit read whole)."""
    from reconciler.cache_warming import warm_alongside
    from reconciler.site_file_cache import SiteFileCache

    monkeypatch.setenv("RECONCILER_PARALLEL", "off")  # it only decides: no child
    monkeypatch.setattr("reconciler.cache_warming.may_fork", lambda: True)
    fifo = tmp_path / "users.yaml"
    os.mkfifo(fifo)
    cache = SiteFileCache(tmp_path / "cache", b"k" * 32, "0" * 16)
    before = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked opening a FIFO"))
    signal.alarm(5)
    try:
        assert warm_alongside(cache, [("Main", fifo)], str, lambda site, file: None) is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
