"""A pull request commits files; a plan of it must never follow one out of the checkout
(issue 21, points 1 and 2). Each test plays the attacker: it plants what a pull request
can commit (links, huge or endless files, a key) and checks the plan neither reads,
writes nor deletes through it, and still prints what the files say."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pydantic
import pytest
import yaml

from reconciler.loading import site_file_cache
from tests.conftest import Run, WriteTree
from tests.processes import RECONCILE, environment, reconcile

USERS = """\
users:
  - {extension: "1001", name: Bob, package: Basic, devices: [IP-DECT 110]}
"""
HEX64 = "ab" * 32


def _in_checkout_cache(tmp_path: Path) -> dict[str, str]:
    """The cache kept in the checkout, as GitLab's `cache:` must keep it."""
    return {"RECONCILER_CACHE_DIR": str(tmp_path / ".ci-cache")}


def _version_folder(tmp_path: Path) -> Path:
    env = {**os.environ, **_in_checkout_cache(tmp_path)}
    return site_file_cache.version_folder(tmp_path / "sites", env)


def _precious(folder: Path) -> Path:
    """A file named as cache entries are, somewhere the attacker wants gone."""
    folder.mkdir(parents=True, exist_ok=True)
    victim = folder / HEX64
    victim.write_text("precious\n")
    return victim


# --- 1. nothing under the checkout is followed out of it --------------------------------

@pytest.mark.parametrize("linked", ["version folder", "checkout folder", "cache root"])
def test_a_linked_cache_folder_is_never_followed(run: Run, write_tree: WriteTree,
                                                 tmp_path: Path, linked: str) -> None:
    """Today's attack: a version folder linked elsewhere made plan delete every
    64-hex-named file there. Whichever folder is the link, nothing there is touched."""
    write_tree({"Main/users.yaml": USERS})
    expected = run("plan", "--no-cache").stdout
    elsewhere = tmp_path / "elsewhere"
    victim = _precious(elsewhere)
    version = _version_folder(tmp_path)
    link = {"version folder": version, "checkout folder": version.parent,
            "cache root": version.parent.parent}[linked]
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    result = run("plan", env=_in_checkout_cache(tmp_path))
    assert result.exit_code == 0 and result.stdout == expected
    assert "warning: cache off for this run" in result.stderr
    assert "is a link or not a folder" in result.stderr
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in elsewhere.iterdir()) == [HEX64]  # nothing written there


def _plan_in_2_gib(sites: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A plan under a 2 GiB address-space limit: reading a planted endless or huge
    entry then fails fast instead of taking the machine."""

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [str(RECONCILE), "plan", str(sites), "--verbose"], cwd=tmp_path, capture_output=True,
        text=True, timeout=120, preexec_fn=limited,
        env=environment(tmp_path / "t.db", **_in_checkout_cache(tmp_path)))


def test_an_entry_linked_to_an_endless_device_is_not_read(write_tree: WriteTree,
                                                          tmp_path: Path) -> None:
    """An entry linked to /dev/zero exhausted memory."""
    sites = write_tree({"Main/users.yaml": USERS})
    assert _plan_in_2_gib(sites, tmp_path).returncode == 0
    (entry,) = _version_folder(tmp_path).iterdir()
    entry.unlink()
    entry.symlink_to("/dev/zero")
    result = _plan_in_2_gib(sites, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cache: 0 hit(s), 0 miss(es), 1 error(s), 1 written" in result.stderr
    assert "Bob" in result.stdout
    assert not entry.is_symlink()  # replaced by a genuine entry, the link gone


def test_an_entry_too_large_to_be_ours_is_refused_unread(write_tree: WriteTree,
                                                         tmp_path: Path) -> None:
    sites = write_tree({"Main/users.yaml": USERS})
    assert _plan_in_2_gib(sites, tmp_path).returncode == 0
    (entry,) = _version_folder(tmp_path).iterdir()
    with open(entry, "r+b") as grown:
        grown.truncate(3 << 30)  # sparse: large to read, free to make
    result = _plan_in_2_gib(sites, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 error(s)" in result.stderr and "Bob" in result.stdout


def test_prune_removes_only_regular_files_it_wrote(run: Run, write_tree: WriteTree,
                                                   tmp_path: Path) -> None:
    """Links and files named like entries but not written by the tool stay; a linked
    name is never deleted through."""
    root = write_tree({"Main/users.yaml": USERS})
    env = _in_checkout_cache(tmp_path)
    run("plan", env=env)
    version = _version_folder(tmp_path)
    victim = _precious(tmp_path / "elsewhere")
    (version / ("cd" * 32)).symlink_to(victim)
    foreign = version / ("ef" * 32)
    foreign.write_text("someone else's file\n")
    (root / "Main" / "more.yaml").write_text(USERS.replace("1001", "1002"))
    run("plan", env=env)  # a whole-tree run prunes
    assert victim.read_text() == "precious\n"
    assert foreign.read_text() == "someone else's file\n"
    assert (version / ("cd" * 32)).is_symlink()


def test_the_cache_is_outside_the_checkout_by_default(run: Run, write_tree: WriteTree,
                                                      tmp_path: Path) -> None:
    write_tree({"Main/users.yaml": USERS})
    assert run("plan").exit_code == 0
    assert not (tmp_path / ".reconciler" / "cache").exists()
    folder = site_file_cache.version_folder(tmp_path / "sites")
    assert not folder.is_relative_to(tmp_path) and len(list(folder.iterdir())) == 1


@pytest.mark.parametrize("planted", ["the folder", "the write-ahead log"])
def test_a_linked_tenant_under_the_checkout_is_refused(write_tree: WriteTree, tmp_path: Path,
                                                       planted: str) -> None:
    """The default tenant, .reconciler/tenant.db, is in the checkout: a committed
    .reconciler linked to another customer's folder, or a linked -wal beside the file,
    must not be read or written through."""
    sites = write_tree({"Main/users.yaml": USERS})
    other = tmp_path / "other-customer"
    other.mkdir()
    assert reconcile("apply", "--auto-approve", str(sites), cwd=tmp_path,
                     tenant=other / "tenant.db").returncode == 0
    before = (other / "tenant.db").read_bytes()
    if planted == "the folder":
        (tmp_path / ".reconciler").symlink_to(other, target_is_directory=True)
    else:
        (tmp_path / ".reconciler").mkdir()
        (tmp_path / ".reconciler" / "tenant.db-wal").symlink_to(other / "tenant.db")
    env = {key: value for key, value in os.environ.items() if key != "RECONCILER_TENANT"}
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = subprocess.run([str(RECONCILE), *command, str(sites)], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 1, result.stdout
        assert "symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert (other / "tenant.db").read_bytes() == before


# --- 2. the cache key is the user's --------------------------------------------------

def _key_file() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "ipecs-reconciler" / "cache-key"


@pytest.mark.parametrize("damage", ["readable by others", "a link", "another user's"])
def test_a_key_file_that_is_not_the_users_turns_the_cache_off(
        run: Run, write_tree: WriteTree, tmp_path: Path, damage: str) -> None:
    write_tree({"Main/users.yaml": USERS})
    run("plan")  # makes the key
    key = _key_file()
    saved = key.read_bytes()
    try:
        if damage == "readable by others":
            key.chmod(0o644)
        elif damage == "a link":
            real = tmp_path / "planted-key"
            real.write_bytes(saved)
            real.chmod(0o600)
            key.unlink()
            key.symlink_to(real)
        else:
            os.chown(key, 65534, 65534)
        result = run("plan")
    finally:
        key.unlink()
        key.write_bytes(saved)
        key.chmod(0o600)
    assert result.exit_code == 0 and "Bob" in result.stdout
    assert "warning: cache off for this run: the key file" in result.stderr


def test_a_key_file_inside_the_checkout_is_never_used(write_tree: WriteTree,
                                                      tmp_path: Path) -> None:
    """A home (or XDG_CACHE_HOME) inside the checkout would let a pull request commit
    the key that authenticates its own forged entries."""
    sites = write_tree({"Main/users.yaml": USERS})
    (tmp_path / ".git").mkdir()
    planted = tmp_path / "home-cache" / "ipecs-reconciler" / "cache-key"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"k" * 32)
    planted.chmod(0o600)
    result = reconcile("plan", str(sites), "--verbose", cwd=tmp_path, tenant=tmp_path / "t.db",
                       XDG_CACHE_HOME=str(tmp_path / "home-cache"))
    assert result.returncode == 0
    assert "is inside the checkout" in result.stderr and "cache: off" not in result.stdout
    assert not (tmp_path / "home-cache" / "ipecs-reconciler" / "sites").exists()


def test_the_key_variable_needs_no_file(write_tree: WriteTree, tmp_path: Path) -> None:
    """The way out where the home is in the checkout: the job's own secret."""
    sites = write_tree({"Main/users.yaml": USERS})
    (tmp_path / ".git").mkdir()
    env = {"XDG_CACHE_HOME": str(tmp_path / "home-cache"), "RECONCILER_CACHE_KEY": "job's"}
    reconcile("plan", str(sites), cwd=tmp_path, tenant=tmp_path / "t.db", **env)
    result = reconcile("plan", str(sites), "-v", cwd=tmp_path, tenant=tmp_path / "t.db", **env)
    assert "cache: 1 hit(s)" in result.stderr and "warning" not in result.stderr


@pytest.mark.parametrize("module", [pydantic, yaml])
def test_an_entry_is_only_for_the_same_pydantic_and_pyyaml(module: object,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    before = site_file_cache.code_version()
    name = "VERSION" if module is pydantic else "__version__"
    monkeypatch.setattr(module, name, "0.0.0-other")
    assert site_file_cache.code_version() != before
