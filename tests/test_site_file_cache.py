"""The cache of validated site files: a warm run loads what a cold run loads, the cache
is never a way to make a plan say what the files do not, and apply never reads it."""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from click.testing import Result

from reconciler.loading import site_file_cache
from reconciler.loading.cache_key import cache_key
from reconciler.loading.config_loading import load_config
from reconciler.loading.site_file_cache import open_cache
from reconciler.loading.speedups import Speedups
from reconciler.runtime.errors import ConfigError
from schema.declarations import TenantConfig
from tests.conftest import Run, WriteTree

SECOND_SITE = {
    "Branch/settings.yaml": """\
        site:
          prune: true
          ignore: ["09*"]
          safety: {max_delete_percent: 50}
        users:
          - extension: "2001"
            name: Ann Lee
            package: Basic
            devices: ["1030", iPECS One Premium]
            mac: "00:1a:2b:3c:4d:5e"
            email: null
            password: {env: RECONCILER_PW_2001}
            password_rotation: 2
        """,
    "Branch/lines.yaml": """\
        shared_lines:
          - number: "2500"
            forward_to_vm: true
            members:
              - {extension: "2001", button: 2, ring_delay: 3}
              - {extension: "2002"}
        hot_desk_users:
          - {extension: "2002", name: Desk, package: Basic,
             password: {env: RECONCILER_PW_2002}}
        """,
    "Branch/empty.yaml": "users: []\n",
    "Main/users.yaml": """\
        users:
          - extension: "1001"
            name: Bob
            package: Premium
            devices: [IP-DECT 110]
        """,
}
NESTED_PATHS = [("name",), ("devices", 1), ("members", 1, "extension"), ("members", 0),
                ("password", "env"), ("mac",), ("no_such_field",)]


def _said(result: Result) -> str:
    """What a run told the user on stderr (problems), without the cache's counts."""
    return "".join(line for line in result.stderr.splitlines(keepends=True)
                   if not line.startswith("cache:"))


def _tree(write_tree: WriteTree) -> Path:
    return write_tree(SECOND_SITE)


def _load(root: Path, cache: site_file_cache.SiteFileCache | None) -> TenantConfig:
    return load_config(root, speedups=Speedups(cache))


def _cache(root: Path = Path("sites")) -> site_file_cache.SiteFileCache:
    cache, note = open_cache(root)
    assert cache is not None, note
    return cache


def _same(cold: TenantConfig, warm: TenantConfig) -> None:
    """Everything the planner, the rules and every message can see."""
    assert [d.key for d in warm.declared] == [d.key for d in cold.declared]
    for a, b in zip(cold.declared, warm.declared, strict=True):
        assert type(b.resource) is type(a.resource)
        assert b.resource == a.resource
        assert b.resource.model_fields_set == a.resource.model_fields_set
        assert b.resource.model_dump() == a.resource.model_dump()
        assert b.fields() == a.fields()
        assert b.previous_key == a.previous_key and b.password == a.password
        assert b.at() == a.at()
        for path in NESTED_PATHS:
            assert b.at(*path) == a.at(*path), path
    assert warm.site_settings.keys() == cold.site_settings.keys()
    for site, declared in cold.site_settings.items():
        again = warm.site_settings[site]
        assert again.settings == declared.settings
        assert again.settings.model_fields_set == declared.settings.model_fields_set
        for path in [(), ("ignore",), ("safety", "max_delete_percent")]:
            assert again.source.locate(path) == declared.source.locate(path)
    assert warm.digest == cold.digest
    assert warm.warnings == cold.warnings
    assert warm.files_by_site == cold.files_by_site


def test_a_warm_load_is_the_cold_load(write_tree: WriteTree, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = _tree(write_tree)
    cold = _load(root, None)
    first = _cache()
    _same(cold, _load(root, first))
    assert (first.counts.hits, first.counts.misses, first.counts.written) == (0, 4, 4)
    warm = _cache()
    _same(cold, _load(root, warm))
    assert (warm.counts.hits, warm.counts.misses, warm.counts.errors) == (4, 0, 0)


def test_the_example_warm_plan_prints_what_a_cold_plan_prints(run: Run,
                                                              example_sites: Path) -> None:
    cold = run("plan", "--no-cache")
    first = run("plan", "--verbose")
    warm = run("plan", "--verbose")
    assert cold.exit_code == first.exit_code == warm.exit_code == 0
    assert warm.stdout == first.stdout == cold.stdout
    assert "cache: 0 hit(s), 3 miss(es), 0 error(s), 3 written" in first.stderr
    assert "cache: 3 hit(s), 0 miss(es), 0 error(s), 0 written" in warm.stderr
    assert "cache:" not in run("plan").stderr  # counts only with --verbose


def test_a_changed_file_is_read_again_and_only_it(run: Run, write_tree: WriteTree) -> None:
    root = _tree(write_tree)
    run("plan", "--verbose")
    users = root / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: Bob", "name: Robert"))
    warm = run("plan", "--verbose")
    assert "cache: 3 hit(s), 1 miss(es), 0 error(s), 1 written" in warm.stderr
    assert "Robert" in warm.stdout
    assert warm.stdout == run("plan", "--no-cache").stdout


def test_a_file_with_a_problem_is_never_stored(run: Run, write_tree: WriteTree) -> None:
    root = _tree(write_tree)
    bad = root / "Main" / "users.yaml"
    bad.write_text(bad.read_text().replace("package: Premium", "package: Premium\n    nmae: x"))
    first = run("validate", "--verbose")
    second = run("validate", "--verbose")
    assert first.exit_code == second.exit_code == 1
    assert "unknown field 'nmae'" in _said(second)
    assert _said(second) == _said(first) == _said(run("validate", "--no-cache"))
    assert "cache: 3 hit(s), 1 miss(es), 0 error(s), 0 written" in second.stderr


def test_a_second_site_mapping_is_reported_though_both_files_are_cached(
        run: Run, write_tree: WriteTree) -> None:
    root = _tree(write_tree)
    assert run("validate").exit_code == 0
    (root / "Branch" / "zz-more.yaml").write_text("site:\n  prune: false\n")
    cold = run("validate", "--no-cache")
    warm = run("validate")
    assert "site Branch already has settings" in _said(cold)
    assert _said(warm) == _said(cold) and warm.exit_code == 1


def _checkout_folder(cwd: Path) -> Path:
    """Where the cache keeps every version's entries for cwd/sites."""
    return site_file_cache.version_folder(cwd / "sites").parent


def _entries(cwd: Path) -> list[Path]:
    return sorted(_checkout_folder(cwd).glob("*/" + "[0-9a-f]" * 64))


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "empty", "not ours"])
def test_a_damaged_entry_is_ignored_and_rebuilt(run: Run, write_tree: WriteTree,
                                                tmp_path: Path, damage: str) -> None:
    _tree(write_tree)
    expected = run("plan", "--no-cache").stdout
    run("plan")
    entries = _entries(tmp_path)
    assert len(entries) == 4
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes({"flip a byte": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],
                           "truncate": data[: len(data) // 2], "empty": b"",
                           "not ours": b"garbage" * 10}[damage])
    damaged = run("plan", "--verbose")
    assert damaged.stdout == expected
    assert "cache: 0 hit(s), 0 miss(es), 4 error(s), 4 written" in damaged.stderr
    assert "cache: 4 hit(s), 0 miss(es), 0 error(s)" in run("plan", "--verbose").stderr


def _forge(entry: Path, key: bytes, payload: bytes) -> None:
    name = entry.name.encode()
    tag = hmac.new(key, name + b"\0" + payload, hashlib.sha256).digest()
    entry.write_bytes(site_file_cache._MAGIC + tag + payload)


def _entry_of(cwd: Path, root: Path, relative: str) -> Path:
    file = root / relative
    cache = _cache(root)
    shown = os.path.relpath(file, cwd)
    return (site_file_cache.version_folder(root)
            / cache.entry_name(shown, file.parent.name, file.read_bytes()))


def _renamed_payload(entry: Path, old: str, new: str) -> bytes:
    """The entry's own payload with one user's name changed: what an attacker wants a
    plan to show."""
    payload = marshal.loads(entry.read_bytes()[len(site_file_cache._MAGIC) + 32:])
    items, settings = payload
    for item in items:
        values = item[3][1]
        values[:] = [new if value == old else value for value in values]
        if item[4].get("name") == old:
            item[4]["name"] = new
    return marshal.dumps((items, settings))


def test_an_entry_forged_without_the_key_is_refused(run: Run, write_tree: WriteTree,
                                                    tmp_path: Path) -> None:
    """Where a CI system keeps the cache in the checkout, a pull request can commit files
    there with predictable names; without the key, which is outside the checkout, it
    cannot make them count."""
    root = _tree(write_tree)
    run("plan")
    entry = _entry_of(tmp_path, root, "Main/users.yaml")
    _forge(entry, b"a key the attacker guessed".ljust(32, b"!"),
           _renamed_payload(entry, "Bob", "Mallory"))
    result = run("plan", "--verbose")
    assert "Mallory" not in result.stdout and "Bob" in result.stdout
    assert "1 error(s)" in result.stderr


def test_a_genuine_entry_under_another_name_is_refused(run: Run, write_tree: WriteTree,
                                                       tmp_path: Path) -> None:
    """The tag covers the entry's name: copying one file's genuine entry over another's
    does not make the second file load as the first."""
    root = _tree(write_tree)
    run("plan")
    target = _entry_of(tmp_path, root, "Main/users.yaml")
    donor = _entry_of(tmp_path, root, "Branch/settings.yaml")
    shutil.copyfile(donor, target)
    result = run("plan", "--verbose")
    assert result.stdout == run("plan", "--no-cache").stdout
    assert "1 error(s)" in result.stderr


def test_apply_never_reads_the_cache(run: Run, write_tree: WriteTree, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that is authentic but says something else (the strongest case: someone
    with the key) changes what plan shows, never what apply writes."""
    monkeypatch.setenv("RECONCILER_PW_2001", "Secret-2001x")
    monkeypatch.setenv("RECONCILER_PW_2002", "Secret-2002x")
    root = _tree(write_tree)
    run("plan")
    entry = _entry_of(tmp_path, root, "Main/users.yaml")
    _forge(entry, cache_key(os.environ, root), _renamed_payload(entry, "Bob", "Mallory"))
    assert "Mallory" in run("plan").stdout  # the forged entry is in use for plans...
    applied = run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr
    assert "Mallory" not in applied.stdout
    after = run("plan", "--no-cache", "--detailed-exitcode")
    assert after.exit_code == 0, after.stdout  # ...and apply wrote what the files say


def test_no_secret_enters_the_cache(run: Run, write_tree: WriteTree, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_PW_2001", "Secret-2001x")
    monkeypatch.setenv("RECONCILER_PW_2002", "Secret-2002x")
    monkeypatch.setenv("RECONCILER_CACHE_KEY", "the-cache-key-itself")
    _tree(write_tree)
    assert run("apply", "--auto-approve").exit_code == 0
    assert run("plan", "--verbose").exit_code == 0
    stored = b"".join(entry.read_bytes() for entry in _entries(tmp_path))
    assert b"RECONCILER_PW_2001" in stored  # the variable's name is what the file says
    for secret in (b"Secret-2001x", b"Secret-2002x", b"the-cache-key-itself"):
        assert secret not in stored


def test_another_code_version_never_trusts_an_entry(run: Run, write_tree: WriteTree,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(write_tree)
    run("plan")
    (old,) = {entry.parent for entry in _entries(tmp_path)}
    monkeypatch.setattr(site_file_cache, "code_version", lambda: "0123456789abcdef")
    other = run("plan", "--verbose")
    assert "cache: 0 hit(s), 4 miss(es), 0 error(s), 4 written" in other.stderr
    assert not old.exists()  # the other version's entries are gone
    assert {entry.parent.name for entry in _entries(tmp_path)} == {"0123456789abcdef"}


def test_another_key_never_trusts_an_entry(run: Run, write_tree: WriteTree) -> None:
    _tree(write_tree)
    run("plan", env={"RECONCILER_CACHE_KEY": "one"})
    assert "4 hit(s)" in run("plan", "-v", env={"RECONCILER_CACHE_KEY": "one"}).stderr
    assert "4 error(s)" in run("plan", "-v", env={"RECONCILER_CACHE_KEY": "two"}).stderr


def test_the_key_file_is_private_and_made_once(run: Run, write_tree: WriteTree) -> None:
    _tree(write_tree)
    run("plan")
    key = Path(os.environ["XDG_CACHE_HOME"]) / "ipecs-reconciler" / "cache-key"
    made = key.read_bytes()
    assert len(made) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    run("plan")
    assert key.read_bytes() == made


def test_deleting_the_cache_is_safe_and_stale_entries_go(run: Run, write_tree: WriteTree,
                                                         tmp_path: Path) -> None:
    root = _tree(write_tree)
    expected = run("plan", "--no-cache").stdout
    run("plan")
    shutil.rmtree(site_file_cache.cache_root())
    assert run("plan").stdout == expected
    (root / "Branch" / "empty.yaml").unlink()
    run("plan")
    assert len(_entries(tmp_path)) == 3  # the deleted file's entry was pruned


def test_off_means_nothing_is_read_or_written(run: Run, write_tree: WriteTree,
                                              tmp_path: Path) -> None:
    _tree(write_tree)
    result = run("validate", "--verbose", env={"RECONCILER_CACHE": "off"})
    assert result.exit_code == 0 and "cache: off" in result.stderr
    assert not _checkout_folder(tmp_path).exists()


def test_validate_with_a_warm_cache_still_reports_cross_file_problems(
        run: Run, write_tree: WriteTree) -> None:
    """Rules across files run on every run: a clash between a cached file and a new one
    is found."""
    root = _tree(write_tree)
    assert run("validate").exit_code == 0
    (root / "Main" / "clash.yaml").write_text(
        'users:\n  - {extension: "2001", name: Twin, package: Basic, devices: [IP-DECT 110]}\n')
    cold = run("validate", "--no-cache")
    warm = run("validate")
    assert cold.exit_code == warm.exit_code == 1
    assert _said(warm) == _said(cold) and "2001" in _said(warm)


def test_an_uncacheable_config_error_is_the_same_with_and_without(write_tree: WriteTree,
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    monkeypatch.chdir(tmp_path)
    root = write_tree({"Main/users.yaml": "users:\n  - {extension: '12'}\n"})
    messages = []
    for cache in (None, _cache(), _cache()):
        with pytest.raises(ConfigError) as raised:
            load_config(root, speedups=Speedups(cache))
        messages.append([str(problem) for problem in raised.value.problems])
    assert messages[0] == messages[1] == messages[2]


def test_a_cache_that_cannot_be_written_only_costs_time(run: Run, write_tree: WriteTree
                                                        ) -> None:
    """A cache folder that cannot be made is worked around, said once with --verbose
    (a file under /proc: even root cannot make a folder there)."""
    _tree(write_tree)
    expected = run("plan", "--no-cache").stdout
    result = run("plan", "--verbose", env={"RECONCILER_CACHE_DIR": "/proc/version/cache"})
    assert result.exit_code == 0 and result.stdout == expected
    assert result.stderr.count("nothing more written") == 1


def test_a_file_in_the_cache_folders_place_turns_it_off_with_a_warning(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    _tree(write_tree)
    expected = run("plan", "--no-cache").stdout
    version = site_file_cache.code_version()
    _checkout_folder(tmp_path).mkdir(parents=True)
    (_checkout_folder(tmp_path) / version).write_text("in the way")
    result = run("plan")  # no --verbose: a warning is always said
    assert result.exit_code == 0 and result.stdout == expected
    assert "warning: cache off for this run: " in result.stderr
    assert f"{version} is a link or not a folder" in result.stderr


def test_prune_removes_only_what_it_wrote_and_what_a_killed_run_left(
        run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    """A kill -9 mid-write leaves a temporary; an hour on it is removed. Anything else
    in the folder (a note, a younger temporary another run is writing) stays."""
    _tree(write_tree)
    run("plan")
    (version,) = {entry.parent for entry in _entries(tmp_path)}
    note, writing, abandoned = (version / "notes.txt", version / ".entry-young1",
                                version / ".entry-old123")
    for path in (note, writing, abandoned):
        path.write_text("x")
    two_hours_ago = time.time() - 7200
    os.utime(abandoned, (two_hours_ago, two_hours_ago))
    older = _checkout_folder(tmp_path) / "0123456789abcdef"
    older.mkdir()
    (older / ".entry-gone12").write_text("x")
    os.utime(older / ".entry-gone12", (two_hours_ago, two_hours_ago))
    run("plan")
    assert note.exists() and writing.exists() and not abandoned.exists()
    assert not older.exists()
    assert len(_entries(tmp_path)) == 4


def test_a_key_file_the_tool_did_not_make_turns_the_cache_off(run: Run,
                                                              write_tree: WriteTree) -> None:
    _tree(write_tree)
    key = Path(os.environ["XDG_CACHE_HOME"]) / "ipecs-reconciler" / "cache-key"
    key.parent.mkdir(parents=True, exist_ok=True)
    saved = key.read_bytes() if key.exists() else None
    key.write_bytes(b"short")
    try:
        result = run("plan", "--verbose")
    finally:
        if saved is None:
            key.unlink()
        else:
            key.write_bytes(saved)
    assert result.exit_code == 0
    assert (f"warning: cache off for this run: {key} is not a key this tool made; delete it"
            in result.stderr)


def test_a_key_variable_that_is_not_utf8_is_still_a_key(tmp_path: Path) -> None:
    """os.environ holds undecodable bytes as surrogates; they must not end in a
    traceback."""
    cache_home = str(tmp_path / "c")
    one, _ = open_cache(tmp_path, {"RECONCILER_CACHE_KEY": "k\udcff", "XDG_CACHE_HOME": cache_home})
    two, _ = open_cache(tmp_path, {"RECONCILER_CACHE_KEY": "k\udcfe", "XDG_CACHE_HOME": cache_home})
    assert one is not None and two is not None and one._key != two._key
