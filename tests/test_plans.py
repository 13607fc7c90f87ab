"""Plans are minimal and ordered so that the tenant accepts every step."""

from __future__ import annotations

from pathlib import Path

from reconciler.applying import apply_plan
from reconciler.loading.config_loading import load_config
from reconciler.plans import Action, Plan, build_plan
from reconciler.providers import SqliteTenant
from schema.settings import declared_facts
from tests.conftest import Run, WriteTree

USERS = """\
users:
  - {extension: "1001", name: Alice, package: Basic, devices: ["1030"]}
  - {extension: "1002", name: Bob, package: Basic, devices: ["1030"]}
hot_desk_users:
  - {extension: "2001", name: Desk, package: Basic}
"""
LINE = """\
shared_lines:
  - number: "300"
    members:
{members}"""


def _line(*extensions: str) -> str:
    listed = "".join(f'      - {{extension: "{e}", button: 1}}\n' for e in extensions)
    return LINE.format(members=listed or "      []\n").replace("members:\n      []", "members: []")


def _plan_and_apply(sites: Path, tenant: SqliteTenant) -> Plan:
    config = load_config(sites)
    plan = build_plan(config, tenant.read_state())
    apply_plan(plan, tenant, declared_facts(config.settings), force=True)
    assert build_plan(config, tenant.read_state()).is_empty
    return plan


def _steps(plan: Plan) -> list[str]:
    return [f"{c.action.value} {c.key}" for c in plan.changes]


def test_member_leaves_before_its_user_is_deleted(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001", "2001")})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/u.yaml": USERS.replace('  - {extension: "1001", name: Alice, package: '
                                             'Basic, devices: ["1030"]}\n', ""),
                "Main/s.yaml": _line("2001")})
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["update shared_line 300", "delete user 1001"]


def test_new_user_is_created_before_it_joins(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001")})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/u.yaml": USERS + '  - {extension: "2002", name: New, package: Basic}\n',
                "Main/s.yaml": _line("1001", "2002")})
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["create hot_desk_user 2002", "update shared_line 300"]


def test_kind_change_detaches_deletes_recreates_and_rejoins(
    write_tree: WriteTree, tmp_path: Path
) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001", "2001")})
    _plan_and_apply(sites, tenant)
    # 2001 becomes a hard-phone user: the portal cannot change a user's type in place.
    changed = USERS.replace('hot_desk_users:\n  - {extension: "2001", name: Desk, package: Basic}',
                            "").replace(
        "users:\n", 'users:\n  - {extension: "2001", name: Desk, package: Basic, '
                    'devices: ["1030"]}\n')
    write_tree({"Main/u.yaml": changed})
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["update shared_line 300", "delete hot_desk_user 2001",
                            "create user 2001", "update shared_line 300"]
    assert plan.changes[0].note == "members leave before their user is deleted"


def test_number_moves_from_shared_line_to_user(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001")})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/u.yaml": USERS + '  - {extension: "300", name: Was a line, '
                                       'package: Basic}\n',
                "Main/s.yaml": "shared_lines: []\n"})
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["delete shared_line 300", "create hot_desk_user 300"]


def test_user_moves_site_keeping_membership(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1002")})
    _plan_and_apply(sites, tenant)
    bob = '  - {extension: "1002", name: Bob, package: Basic, devices: ["1030"]}\n'
    far_bob = bob.replace("}", ", group_member_type: multi_site}")
    write_tree({"Main/u.yaml": USERS.replace(bob, ""), "Annex/u.yaml": "users:\n" + far_bob})
    plan = _plan_and_apply(sites, tenant)
    assert [(c.action, c.key.site, c.key.number) for c in plan.changes] == [
        (Action.UPDATE, "Main", "300"), (Action.DELETE, "Main", "1002"),
        (Action.CREATE, "Annex", "1002"), (Action.UPDATE, "Main", "300"),
    ]


def test_package_move_waits_for_a_free_seat(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant_yaml = ('tenant: T\nplatform_version: "6.0"\npackages:\n'
                   '  Basic: 3\n  Premium: 1\n  Gold: 1\n')
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS.replace("Alice, package: Basic",
                                                     "Alice, package: Premium")},
                       tenant=tenant_yaml)
    _plan_and_apply(sites, tenant)
    # Premium is full: hot desk user 2001 (sorted first) must wait for 1001 to leave it.
    write_tree({"Main/u.yaml": USERS.replace("Alice, package: Basic", "Alice, package: Gold")
                .replace("Desk, package: Basic", "Desk, package: Premium")}, tenant=tenant_yaml)
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["update user 1001", "update hot_desk_user 2001"]


def test_omitted_field_is_not_managed_but_null_clears(write_tree: WriteTree,
                                                      tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    with_email = USERS.replace("name: Bob,", 'name: Bob, email: bob@example.com,')
    sites = write_tree({"Main/u.yaml": with_email})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/u.yaml": USERS})  # email left out: the portal keeps it
    assert build_plan(load_config(sites), tenant.read_state()).is_empty
    write_tree({"Main/u.yaml": USERS.replace("name: Bob,", "name: Bob, email: null,")})
    plan = _plan_and_apply(sites, tenant)
    assert [(d.path, d.old, d.new) for d in plan.changes[0].diffs] == [
        (("email",), "bob@example.com", None)]


def test_member_order_is_not_a_change(write_tree: WriteTree, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    sites = write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001", "2001")})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/s.yaml": _line("2001", "1001")})
    assert build_plan(load_config(sites), tenant.read_state()).is_empty


def test_plan_text_shows_member_and_field_changes(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS, "Main/s.yaml": _line("1001")})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace("name: Bob", "name: Robert"),
                "Main/s.yaml": _line("2001").replace("button: 1", "button: 2, ring_delay: 6")})
    out = run("plan").stdout
    assert '  ~ update user 1002  # sites/Main/u.yaml:3\n      name: "Bob" -> "Robert"\n' in out
    assert ("  ~ update shared_line 300  # sites/Main/s.yaml:2\n      members: - 1001\n"
            "      members: + 2001 (button 2, ring delay 6s)\n") in out
    assert "\nPlan: 0 to create, 2 to update, 0 to replace, 0 to delete.\n" in out


def test_plan_is_deterministic(run: Run, example_sites: Path) -> None:
    assert run("plan").stdout == run("plan").stdout


def test_direct_dial_swap_between_user_and_line_releases_first(
    write_tree: WriteTree, tmp_path: Path
) -> None:
    # Found by the property test: each side must let go before either takes.
    tenant = SqliteTenant(tmp_path / "t.db")
    users = USERS.replace("name: Bob,", 'name: Bob, direct_dial_number: "0248010",')
    line = 'shared_lines:\n  - {number: "300", direct_dial_number: "0248011"}\n'
    sites = write_tree({"Main/u.yaml": users, "Main/s.yaml": line})
    _plan_and_apply(sites, tenant)
    write_tree({"Main/u.yaml": users.replace("0248010", "0248011"),
                "Main/s.yaml": line.replace("0248011", "0248010")})
    plan = _plan_and_apply(sites, tenant)
    assert _steps(plan) == ["update shared_line 300", "update user 1002",
                            "update user 1002", "update shared_line 300"]
    assert plan.changes[0].note == "releases direct_dial_number for user 1002"
    assert plan.changes[0].fields == {"direct_dial_number": None}


def test_apply_stops_at_a_refused_step_and_resumes(run: Run, example_sites: Path,
                                                   tmp_path: Path) -> None:
    from reconciler.runtime.errors import ApplyError
    from tests.tenant_helpers import portal_edit

    tenant = SqliteTenant(tmp_path / "t.db")
    config = load_config(example_sites)
    plan = build_plan(config, tenant.read_state())
    tenant.initialise(declared_facts(config.settings), config.settings.tenant)
    # Someone adds shared line 3000 by hand between plan and apply.
    portal_edit(tmp_path / "t.db",
                "INSERT INTO shared_lines (number, site) VALUES ('3000', 'Main')")
    try:
        apply_plan(plan, tenant, declared_facts(config.settings))
    except ApplyError as error:
        assert str(error).startswith("step 6 of 8 failed: the tenant refused to create "
                                     "shared_line 3000: the number is already taken. 5 earlier "
                                     "step(s) were applied and stand")
    else:
        raise AssertionError("the taken number was not refused")
    # A fresh plan continues: the five users exist, 3000 is adopted, the rest created.
    resumed = build_plan(config, tenant.read_state())
    assert _steps(resumed) == ["create shared_line 3748", "create shared_line 555",
                               "update shared_line 3000"]
    assert resumed.changes[2].adopt
    apply_plan(resumed, tenant, declared_facts(config.settings))
    assert build_plan(config, tenant.read_state()).is_empty
