"""Honest exits under hostile surroundings (issue 21, point 5): output that cannot be
written (a full disk, a file-size limit, a closed pipe) ends in exit 1 and one message,
never exit 0 with a cut plan; --out never replaces a device; a parent ignoring SIGCHLD
changes nothing. Each runs `reconcile` as CI does, a process of its own."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.processes import RECONCILE, environment, reconcile


def _run(args: list[str], cwd: Path, stdout: int, env: dict[str, str],
         preexec: Callable[[], None] | None = None) -> tuple[int, str]:
    done = subprocess.run([RECONCILE, *args], cwd=cwd, stdout=stdout, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, env=env, timeout=120,
                          preexec_fn=preexec)
    return done.returncode, done.stderr


def _limit_files_to_1_kib() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_a_plan_cut_by_a_file_size_limit_is_an_error(example_sites: Path, tmp_path: Path,
                                                     unbuffered: str) -> None:
    """Under PYTHONUNBUFFERED (many CI runners set it) Python's own stdout dropped what a
    short write left: exit 0 and a plan cut at 1 KiB."""
    env = {**environment(tmp_path / "t.db"), "PYTHONUNBUFFERED": unbuffered}
    with open(tmp_path / "plan.json", "w") as out:
        code, stderr = _run(["plan", str(example_sites), "--format", "json"], tmp_path,
                            out.fileno(), env, _limit_files_to_1_kib)
    assert code == 1
    assert stderr == ("error: stdout could not be written (File too large) before the output "
                      "was complete; nothing was changed.\n")


def test_a_full_disk_on_stdout_is_an_error_not_a_bug(example_sites: Path,
                                                     tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        code, stderr = _run(["plan", str(example_sites)], tmp_path, full.fileno(),
                            environment(tmp_path / "t.db"))
    assert code == 1 and "internal error" not in stderr
    assert stderr.splitlines() == ["error: stdout could not be written (No space left on "
                                   "device) before the output was complete; nothing was "
                                   "changed."]


def test_a_closed_pipe_is_an_error(example_sites: Path, tmp_path: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # `reconcile plan | head`, the reader long gone
    try:
        code, stderr = _run(["plan", str(example_sites)], tmp_path, writer,
                            environment(tmp_path / "t.db"))
    finally:
        os.close(writer)
    assert code == 1 and "stdout was closed before the output was complete" in stderr


def test_an_apply_whose_plan_cannot_be_shown_changes_nothing(example_sites: Path,
                                                             tmp_path: Path) -> None:
    """Apply shows the plan before it writes: a plan nobody could see is not applied."""
    env = {**environment(tmp_path / "t.db"), "PYTHONUNBUFFERED": ""}
    with open("/dev/full", "w") as full:
        code, stderr = _run(["apply", "--auto-approve", str(example_sites)], tmp_path,
                            full.fileno(), env)
    assert code == 1 and "internal error" not in stderr
    assert stderr.splitlines() == ["error: stdout could not be written (No space left on "
                                   "device) before the output was complete; nothing was "
                                   "changed."]
    assert not (tmp_path / "t.db").exists()


def _full_device(tmp_path: Path, name: str = "full") -> Path:
    """A device like /dev/full of our own: a test must never risk the machine's."""
    device = tmp_path / name
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        with open(device, "w") as probe:
            probe.write("x")
            probe.flush()
    except PermissionError:
        pytest.skip("cannot make or open a device node here")
    except OSError:
        return device  # ENOSPC: it is a full device
    pytest.skip("the device node does not behave as /dev/full here")


def test_out_to_a_device_writes_through_it_and_never_replaces_it(example_sites: Path,
                                                                 tmp_path: Path) -> None:
    """A plan file was written beside the path and renamed over it: as root, over the
    device node itself."""
    device = _full_device(tmp_path)
    result = reconcile("plan", str(example_sites), "--out", str(device), cwd=tmp_path,
                       tenant=tmp_path / "t.db")
    assert result.returncode == 1
    assert (f"error: cannot write plan file {device}: No space left on device; what was "
            "written there is incomplete") in result.stderr
    assert stat.S_ISCHR(device.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "sites"]  # no temporary


def test_out_to_dev_stdout_writes_the_plan_there(example_sites: Path, tmp_path: Path) -> None:
    result = reconcile("plan", str(example_sites), "--out", "/dev/stdout", cwd=tmp_path,
                       tenant=tmp_path / "t.db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{\n") and '"format_version"' in result.stdout


def test_out_under_a_file_size_limit_is_an_error(example_sites: Path, tmp_path: Path) -> None:
    code, stderr = _run(["plan", str(example_sites), "--out", str(tmp_path / "p.json")],
                        tmp_path, subprocess.DEVNULL, environment(tmp_path / "t.db"),
                        _limit_files_to_1_kib)
    assert code == 1 and "cannot write plan file" in stderr and "File too large" in stderr
    assert not (tmp_path / "p.json").exists()


def test_a_parent_ignoring_sigchld_changes_nothing(example_sites: Path, tmp_path: Path) -> None:
    """SIGCHLD ignored (inherited by some CI agents) made the forked children's wait
    fail: 'internal error: ChildProcessError'. RECONCILER_PARALLEL=on forced a fork at
    any size; plans now run in one process whatever it says."""
    env = {**environment(tmp_path / "t.db"), "RECONCILER_PARALLEL": "on"}
    expected = reconcile("plan", str(example_sites), cwd=tmp_path, tenant=tmp_path / "t.db")
    done = subprocess.run([RECONCILE, "plan", "--no-cache", str(example_sites)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.stdout


def test_the_upload_file_to_a_device_is_written_through_never_replaced(
        example_sites: Path, tmp_path: Path) -> None:
    from tests.list_download_files import EXAMPLE_ROWS, workbook

    device = _full_device(tmp_path, "full.xlsx")
    download = workbook(tmp_path / "list.xlsx", EXAMPLE_ROWS)
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", "name: Reception", 1))
    result = reconcile("plan", str(example_sites), "--tenant", f"list-download:///{download}",
                       "--format", "list-upload", "--out", str(device), cwd=tmp_path)
    assert result.returncode == 1 and "internal error" not in result.stderr
    assert f"cannot write upload file {device}: No space left on device" in result.stderr
    assert stat.S_ISCHR(device.stat().st_mode)
