"""Rules that need the live tenant: facts agree, packages only go up, types are replaced."""

from __future__ import annotations

from tests.conftest import TENANT_YAML, Run, WriteTree

USERS = """\
users:
  - {extension: "1001", name: Alice, package: Premium, devices: ["1030"]}
hot_desk_users:
  - {extension: "2001", name: Desk, package: Basic}
shared_lines:
  - number: "300"
    members: [{extension: "2001", button: 1}]
"""


def test_package_downgrade_is_refused_naming_both(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({"Main/u.yaml": USERS.replace("package: Premium", "package: Basic")})
    result = run("plan")
    assert result.exit_code == 1
    assert "sites/Main/u.yaml:2:47: user 1001 is on package 'Premium'; moving it to 'Basic' " \
        "is a downgrade, which the portal does not allow" in result.stderr
    assert "[licences.package-downgrade]" in result.stderr


def test_package_upgrade_is_planned(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace("Desk, package: Basic", "Desk, package: Premium")})
    result = run("plan")
    assert result.exit_code == 0, result.stderr
    assert 'package: "Basic" -> "Premium"' in result.stdout


def test_facts_must_match_the_tenant(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({}, tenant=TENANT_YAML.replace("shared_lines: 5", "shared_lines: 3")
               .replace("Basic: 10", "Basic: 8").replace('"6.0"', '"6.1"'))
    result = run("plan")
    assert result.exit_code == 1
    fix = ("make tenant.yaml match the tenant (the rules depend on it). Only a purchase (more "
           "seats, a new package, more licences, Shared licensing on) is planned and recorded "
           "by the apply; for anything else on the embedded local tenant, `reconcile "
           "local-tenant set-facts` records it [tenant.facts-mismatch]")
    assert result.stderr.splitlines()[:3] == [
        "sites/tenant.yaml:2:19: tenant.yaml says platform_version is 6.1 but the tenant "
        f"reports 6.0; {fix}",
        "sites/tenant.yaml:4:17: tenant.yaml says licences.shared_lines is 3 but the tenant "
        f"reports 5; {fix}",
        f"sites/tenant.yaml:7:10: tenant.yaml says packages.Basic is 8 but the tenant reports "
        f"10; {fix}",
    ]
    # The embedded tenant told what the portal now shows:
    bought = run("local-tenant", "set-facts")
    assert bought.exit_code == 0, bought.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_a_reordered_upgrade_path_is_refused_even_with_a_new_package(
        run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({}, tenant=TENANT_YAML.replace("  Basic: 10\n  Premium: 10\n",
                                              "  Premium: 10\n  Gold: 2\n  Basic: 10\n"))
    result = run("plan")
    assert result.exit_code == 1
    assert "tenant.yaml says packages (upgrade order) is ['Premium', 'Basic'] but the tenant " \
        "reports ['Basic', 'Premium']" in result.stderr


def test_type_change_is_a_replace_with_a_warning(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": USERS})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": USERS.replace(
        'hot_desk_users:\n  - {extension: "2001", name: Desk, package: Basic}',
        'hot_desk_users: []\nusers_more: x').replace("users_more: x\n", "").replace(
        "users:\n", 'users:\n  - {extension: "2001", name: Desk, package: Basic, '
        'devices: ["1030"]}\n', 1)})
    result = run("plan")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "  -/+ replace hot_desk_user 2001 with user 2001 (1 of 2: delete)\n" \
           "      ! a user's type cannot change in place [user.kind-change]; download its call " \
           "recordings before applying\n" in out
    assert "  -/+ replace hot_desk_user 2001 with user 2001 (2 of 2: create): " in out
    assert "\nPlan: 0 to create, 2 to update, 1 to replace, 0 to delete.\n" in out
    # Deleting a hot desk user, even to replace it, always needs --force.
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "[Main] deleting hot_desk_user 2001 always needs --force" in refused.stderr
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0
