"""Guards no other test caught (issue 20, point 8): each test here goes red when its one
guard is removed, even where a later check would still refuse (with other words).
The markdown table's '|' escape is held by tests/test_hostile_names.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.applying import apply_plan
from reconciler.loading import yaml_reading
from reconciler.loading.config_loading import load_config
from reconciler.plans import build_plan
from reconciler.providers import SqliteTenant
from reconciler.runtime.errors import SecretError
from schema.settings import declared_facts
from tests.conftest import TENANT_YAML, Run, WriteTree
from tests.tenant_helpers import mark_unmanaged_in


def _users(count: int, start: int = 1001) -> str:
    return "users:\n" + "".join(
        f'  - {{extension: "{n}", name: U{n}, package: Basic, devices: [IP-DECT 110]}}\n'
        for n in range(start, start + count))


# --- the percentage rail at exactly min_resources -----------------------------------

def test_the_percentage_rail_counts_at_exactly_min_resources(run: Run, write_tree: WriteTree
                                                             ) -> None:
    """min_resources: 11 means a site of 11 is judged ("fewer than 11" are not)."""
    tenant = TENANT_YAML.replace("Basic: 10", "Basic: 20")
    safety = "site:\n  safety: {{max_delete_percent: 20, min_resources: {}}}\n"
    root = write_tree({"Main/users.yaml": _users(11), "Main/site.yaml": safety.format(11)},
                      tenant=tenant)
    assert run("apply", "--auto-approve").exit_code == 0
    (root / "Main" / "users.yaml").write_text(_users(8))  # 3 of 11 (27.3%): over 20%
    at_limit = run("plan")
    assert "3 of 11 users (27.3%) would be deleted or replaced" in at_limit.stdout
    (root / "Main" / "site.yaml").write_text(safety.format(12))
    below = run("plan")
    assert below.exit_code == 0 and "would be deleted or replaced" not in below.stdout


# --- the List Download file-size limit ---------------------------------------------

def test_a_list_download_over_the_size_limit_is_refused_unread(run: Run, example_sites: Path,
                                                               tmp_path: Path) -> None:
    from reconciler.providers.list_download.workbook import MAX_FILE_BYTES

    huge = tmp_path / "list.xlsx"
    with open(huge, "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: large to read, free to make
    result = run("plan", str(example_sites), "--tenant", f"list-download:///{huge}")
    assert result.exit_code == 1
    assert (f"is {MAX_FILE_BYTES + 1:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for a "
            "List Download file") in result.stderr


# --- renumber.unmanaged ------------------------------------------------------------

def test_renumbering_a_resource_made_by_hand_is_refused_with_the_way_to_adopt_it(
        write_tree: WriteTree, tmp_path: Path) -> None:
    root = write_tree({"Main/users.yaml": _users(1)})
    tenant = SqliteTenant(tmp_path / "t.db")
    tenant.bind("Test Tenant")
    config = load_config(root)
    apply_plan(build_plan(config, tenant.read_state()), tenant, declared_facts(config.settings))
    mark_unmanaged_in(tenant, "1001")
    (root / "Main" / "users.yaml").write_text(
        'users:\n  - {extension: "1002", name: U1001, package: Basic, devices: [IP-DECT 110],'
        ' previous_extension: "1001"}\n')
    with pytest.raises(Exception) as refused:
        build_plan(load_config(root), tenant.read_state())
    (problem,) = refused.value.problems  # type: ignore[attr-defined]
    assert problem.rule == "renumber.unmanaged"
    assert str(problem).endswith(
        "user 1001 cannot be renumbered to 1002: it was made by hand and this tool does not "
        "manage it; adopt it first: declare user 1001 as it is (without previous_extension), "
        "apply, then renumber it [renumber.unmanaged]")


# --- the apply-time secret-prefix check --------------------------------------------

def test_apply_refuses_a_password_variable_outside_the_prefix_given_to_it(
        write_tree: WriteTree, tmp_path: Path) -> None:
    """A plan made where another prefix was allowed (a library caller, a saved plan read
    by other code) still cannot turn another variable into a portal password."""
    root = write_tree({"Main/users.yaml": 'users:\n  - {extension: "1001", name: A, '
                       "package: Basic, devices: [IP-DECT 110], password: {env: CI_TOKEN}}\n"})
    tenant = SqliteTenant(tmp_path / "t.db")
    tenant.bind("Test Tenant")
    config = load_config(root, secret_prefix="CI_")
    plan = build_plan(config, tenant.read_state())
    with pytest.raises(SecretError, match="CI_TOKEN does not start with RECONCILER_PW_"):
        apply_plan(plan, tenant, declared_facts(config.settings),
                   environ={"CI_TOKEN": "Secret-12345"}, secret_prefix="RECONCILER_PW_")
    assert not (tmp_path / "t.db").exists()  # refused before anything was written


# --- the config tree's two FIFO layers, each alone ---------------------------------

def test_the_tree_walk_names_a_fifo_itself(run: Run, write_tree: WriteTree) -> None:
    """Layer one: the walk refuses a FIFO it finds, in its own words, before reading."""
    sites = write_tree({"Main/users.yaml": _users(1)})
    os.mkfifo(sites / "Main" / "pipe.yaml")
    result = run("validate")
    assert result.exit_code == 1
    assert ("sites/Main/pipe.yaml:1:1: is not a regular file (a FIFO, socket or device); only "
            "YAML files and site folders belong in the config tree") in result.stderr


def test_the_reader_refuses_a_fifo_swapped_in_after_the_walk(tmp_path: Path) -> None:
    """Layer two: a FIFO put in place of a file after the walk is refused at once by the
    reader (opened without blocking), never waited on. In a process of its own, so a
    hang fails the test instead of stopping the suite."""
    fifo = tmp_path / "users.yaml"
    os.mkfifo(fifo)
    script = ("import sys; from pathlib import Path; from reconciler.loading import yaml_reading;"
              "r = yaml_reading.read_yaml(Path(sys.argv[1]), 'users.yaml');"
              "print(r.problems[0])")
    done = subprocess.run([sys.executable, "-c", script, str(fifo)], capture_output=True,
                          text=True, timeout=30, cwd=Path(yaml_reading.__file__).parents[2])
    assert done.returncode == 0, done.stderr
    assert ("is not a regular file (a FIFO, socket or device); only YAML files belong here"
            in done.stdout)
