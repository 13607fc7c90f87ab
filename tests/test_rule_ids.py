"""Rules whose behaviour is tested elsewhere, pinned here by id, place and message."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run, WriteTree
from tests.tenant_helpers import mark_unmanaged

USERS = """\
users:
  - {extension: "1001", name: A, package: Basic, devices: ["1030", "iPECS One"], mac: "001A2B3C4D01", portal_id: a@x.com}
  - {extension: "1002", name: B, package: Basic, devices: ["1030", "iPECS One"], mac: "001A2B3C4D02", portal_id: b@x.com}
"""  # noqa: E501


def _stderr_lines(run: Run, *args: str, env: dict[str, str] | None = None) -> list[str]:
    result = run(*args, env=env)
    assert result.exit_code == 1, result.output
    return result.stderr.splitlines()


def test_config_layout(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS}, tenant=None)
    assert _stderr_lines(run, "validate")[0] == (
        "sites/tenant.yaml:1:1: tenant.yaml is missing; create it with tenant, "
        "platform_version, licences and packages (see README.md) [config.layout]")


def test_portal_id_and_mac_duplicates(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace("b@x.com", "a@x.com").replace("4D02", "4D01")})
    lines = _stderr_lines(run, "validate")
    assert lines[0].startswith("sites/Main/u.yaml:3:87: MAC address 001A2B3C4D01 is already "
                               "used by user 1001 (")
    assert lines[0].endswith("); each MAC address belongs to one user [user.mac-duplicate]")
    assert lines[1].startswith("sites/Main/u.yaml:3:114: portal ID a@x.com is already used")
    assert lines[1].endswith("[user.portal-id-duplicate]")


def test_password_length(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace(
        "portal_id: a@x.com", "portal_id: a@x.com, password: {env: RECONCILER_PW_1}")})
    lines = _stderr_lines(run, "apply", "--auto-approve", env={"RECONCILER_PW_1": "x" * 16})
    assert lines == ["error: the password in RECONCILER_PW_1 is not 8 to 15 characters long, "
                     "as the portal needs [secrets.password-length]"]


def test_declared_and_ignored(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": "site: {ignore: ['1002']}\n" + USERS})
    assert _stderr_lines(run, "validate")[0] == (
        "sites/Main/u.yaml:4:5: user 1002 is declared but site Main ignores it (site.ignore); "
        "remove it from the ignore list or from the config [ownership.declared-and-ignored]")


def test_ownership_conflict(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / ".reconciler" / "tenant.db", "1002")
    write_tree({"Main/u.yaml": USERS.replace('"1002"', '"1003"').replace("4D02", "4D03")})
    lines = _stderr_lines(run, "plan")
    assert lines[0] == (
        "sites/Main/u.yaml:3:114: portal_id b@x.com collides with user 1002 in site Main "
        "(held by), which this tool does not manage and leaves alone; change it in the "
        "portal, declare it here to adopt it, or set prune: true on its site "
        "[ownership.conflict]")


def test_site_settings_duplicate(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/a.yaml": "site: {prune: true}\n", "Main/b.yaml": "site: {prune: false}\n"})
    line = _stderr_lines(run, "validate")[0]
    assert line.startswith("sites/Main/b.yaml:1:1: site Main already has settings at ")
    assert line.endswith("keep one site: mapping per site [config.site-settings-duplicate]")


def test_previous_declared(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace('{extension: "1002",',
                                             '{extension: "1003", previous_extension: "1001",')})
    line = _stderr_lines(run, "validate")[0]
    assert line.startswith("sites/Main/u.yaml:3:45: previous_extension 1001 is also declared "
                           "as a resource (")
    assert line.endswith("remove one of them [renumber.previous-declared]")


def test_renumber_target_exists(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / ".reconciler" / "tenant.db", "1002")  # made by hand
    write_tree({"Main/u.yaml": USERS.replace(
        '  - {extension: "1001", name: A, package: Basic, devices: ["1030", "iPECS One"], '
        'mac: "001A2B3C4D01", portal_id: a@x.com}\n', "").replace(
        '{extension: "1002",', '{extension: "1002", previous_extension: "1001",')})
    assert _stderr_lines(run, "plan")[0] == (
        "sites/Main/u.yaml:2:45: user 1001 cannot be renumbered to 1002: user 1002 is there and "
        "was made by hand (this tool does not manage it); delete it in the portal, or set "
        "prune: true on site Main so this tool deletes it first, or choose a free number "
        "[renumber.target-exists]")


def test_renumber_previous_unknown(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace('{extension: "1002",',
                                             '{extension: "1003", previous_extension: "1009",')})
    assert _stderr_lines(run, "plan")[0] == (
        "sites/Main/u.yaml:3:45: previous_extension 1009 matches no user in site Main, and "
        "user 1003 does not exist either; if 1003 is new, remove previous_extension; otherwise "
        "write the number it has now [renumber.previous-unknown]")


def test_renumber_unmanaged(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / ".reconciler" / "tenant.db", "1002")
    write_tree({"Main/u.yaml": USERS.replace('{extension: "1002",',
                                             '{extension: "1003", previous_extension: "1002",')})
    assert _stderr_lines(run, "plan")[0] == (
        "sites/Main/u.yaml:3:45: user 1002 cannot be renumbered to 1003: it was made by hand and "
        "this tool does not manage it; adopt it first: declare user 1002 as it is (without "
        "previous_extension), apply, then renumber it [renumber.unmanaged]")


def test_rotation_without_password(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace("portal_id: b@x.com", "portal_id: b@x.com, "
                                                                   "password_rotation: 1")})
    assert _stderr_lines(run, "validate")[0] == (
        "sites/Main/u.yaml:3:142: password_rotation asks to set the password again, but there "
        "is no password; add password: {env: VARIABLE_NAME} "
        "[secrets.rotation-without-password]")


def test_a_broken_user_is_not_also_reported_missing(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace("name: B", "name: B, colour: red")
                + 'shared_lines:\n  - {number: "300", members: [{extension: "1002"}]}\n'})
    lines = _stderr_lines(run, "validate")
    assert len(lines) == 3  # the unknown field, that the rules saw only the rest, the count
    assert "[schema.unknown-field]" in lines[0] and lines[1].startswith("note: 1 problem(s)")


def test_unknown_field_in_a_password_reference_lists_allowed(run: Run,
                                                             write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS.replace(
        "portal_id: b@x.com", "portal_id: b@x.com, password: {env: RECONCILER_PW_P, pw: x}")})
    line = _stderr_lines(run, "validate")[0]
    assert line.endswith("unknown field 'pw'; allowed: env [schema.unknown-field]")
