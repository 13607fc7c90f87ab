"""Safety rails, ownership markers, prune, ignore, adoption and site filters."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TENANT_YAML, Run, WriteTree
from tests.tenant_helpers import mark_unmanaged

DB = Path(".reconciler/tenant.db")
TENANT = TENANT_YAML.replace("Basic: 10", "Basic: 40")


def _users(count: int, start: int = 1000) -> str:
    return "users:\n" + "".join(
        f'  - {{extension: "{start + i}", name: U{i}, package: Basic, devices: ["1030"]}}\n'
        for i in range(count))


def test_too_many_deletes_need_force(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(30)}, tenant=TENANT)
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({"Main/u.yaml": _users(18)}, tenant=TENANT)
    plan = run("plan")
    assert ("! apply needs --force: [Main] 12 of 30 users (40.0%) would be deleted or replaced; "
            "over the 30.0% limit; use --force") in plan.stdout
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "[Main] 12 of 30 users (40.0%) would be deleted or replaced; over the 30.0% limit; " \
           "use --force" in refused.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 2  # nothing was deleted
    assert run("apply", "--auto-approve", "--force").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_deletes_under_the_limit_pass(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(30)}, tenant=TENANT)
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": _users(21)}, tenant=TENANT)  # 9 of 30 = 30.0%: not over
    assert run("apply", "--auto-approve").exit_code == 0


def test_small_sites_are_not_rate_limited(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(5)}, tenant=TENANT)
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": _users(1)}, tenant=TENANT)
    assert run("apply", "--auto-approve").exit_code == 0


def test_limits_per_site_beat_the_tenant_default(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(30)}, tenant=TENANT)
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": "site:\n  safety: {max_delete_percent: 50}\n" + _users(18)},
               tenant=TENANT)
    assert run("apply", "--auto-approve").exit_code == 0
    write_tree({"Main/u.yaml": _users(9)}, tenant=TENANT + "safety: {max_delete_percent: 60}\n")
    assert run("apply", "--auto-approve").exit_code == 0  # 9 of 18 = 50%


def test_deleting_a_shared_line_always_needs_force(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/s.yaml": 'shared_lines:\n  - number: "300"\n'})
    run("apply", "--auto-approve")
    write_tree({"Main/s.yaml": "shared_lines: []\n"})
    refused = run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "[Main] deleting shared_line 300 always needs --force" in refused.stderr
    assert run("apply", "--auto-approve", "--force").exit_code == 0


def test_unmanaged_resources_are_left_alone(run: Run, write_tree: WriteTree,
                                            tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": _users(2)})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "1001")  # as if made by hand in the portal
    write_tree({"Main/u.yaml": _users(1)})
    plan = run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0
    assert "Left alone (not managed by this tool; `prune: true` on the site deletes):\n" \
           "  Main: user 1001\n" in plan.stdout


def test_prune_deletes_unmanaged(run: Run, write_tree: WriteTree, tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": _users(2)})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "1001")
    write_tree({"Main/u.yaml": "site: {prune: true}\n" + _users(1)})
    plan = run("plan")
    assert "  - delete user 1001  # not managed by this tool; pruned (site prune: true)" \
        in plan.stdout
    assert run("apply", "--auto-approve").exit_code == 0
    assert "1001" not in run("plan").stdout


def test_ignored_numbers_are_never_touched(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(2)})
    run("apply", "--auto-approve")
    write_tree({"Main/u.yaml": "site: {prune: true, ignore: ['100*']}\nusers: []\n"})
    result = run("plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.stdout


def test_declared_and_ignored_is_an_error(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": "site: {ignore: ['1001']}\n" + _users(2)})
    result = run("validate")
    assert result.exit_code == 1
    assert "sites/Main/u.yaml:4:5: user 1001 is declared but site Main ignores it" \
        in result.stderr


def test_declaring_an_unmanaged_resource_adopts_it(run: Run, write_tree: WriteTree,
                                                   tmp_path: Path) -> None:
    write_tree({"Main/u.yaml": _users(2)})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "1001")
    plan = run("plan")
    assert "  ~ adopt user 1001  # sites/Main/u.yaml:3" in plan.stdout
    assert "1 to adopt" in plan.stdout
    run("apply", "--auto-approve")
    assert run("plan", "--detailed-exitcode").exit_code == 0
    write_tree({"Main/u.yaml": _users(1)})
    assert "- delete user 1001  # no longer in the config" in run("plan").stdout


def test_unmanaged_number_blocks_a_declared_one(run: Run, write_tree: WriteTree,
                                                tmp_path: Path) -> None:
    write_tree({"Main/s.yaml": 'shared_lines:\n  - number: "300"\n'})
    run("apply", "--auto-approve")
    mark_unmanaged(tmp_path / DB, "300")
    write_tree({"Main/s.yaml": "shared_lines: []\n",
                "Main/u.yaml": 'hot_desk_users:\n  - {extension: "3001", name: X, '
                               'package: Basic}\n'})
    result = run("plan")
    assert result.exit_code == 1
    assert "sites/Main/u.yaml:2:5: number 3001 collides with shared_line 300 in site Main " \
           "(equal to or starting), which this tool does not manage" in result.stderr


def test_site_filters(run: Run, write_tree: WriteTree) -> None:
    write_tree({"Main/u.yaml": _users(1), "Annex/u.yaml": _users(1, start=2000)})
    only_annex = run("plan", "--site", "Annex")
    assert "Limited to sites Annex" in only_annex.stdout
    assert "user 2000" in only_annex.stdout and "user 1000" not in only_annex.stdout
    without_annex = run("plan", "--exclude-site", "Annex")
    assert "user 1000" in without_annex.stdout and "user 2000" not in without_annex.stdout
    assert run("apply", "--auto-approve", "--site", "Main").exit_code == 0
    remaining = run("plan")
    assert "user 2000" in remaining.stdout and "user 1000" not in remaining.stdout
    unknown = run("plan", "--site", "Nowhere")
    assert unknown.exit_code == 1
    assert "no site named Nowhere; sites are: Annex, Main" in unknown.stderr


def test_validate_with_site_filter_reports_only_those_sites(run: Run, write_tree: WriteTree
                                                            ) -> None:
    write_tree({"Main/u.yaml": _users(1), "Annex/u.yaml": "users:\n  - {extension: '9'}\n"})
    assert run("validate").exit_code == 1
    assert run("validate", "--site", "Main").exit_code == 0
    assert run("validate", "--exclude-site", "Main").exit_code == 1
