"""Each phase of PHASES from a table of before/after cases (Terraform's table-driven
tests): the tenant holds `before`, the config says `after`, and each phase yields
exactly the steps listed, in order; the phases together apply cleanly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.applying import apply_plan
from reconciler.loading.config_loading import load_config
from reconciler.plans import build_plan
from reconciler.plans.building import checked_transition
from reconciler.plans.phases import PHASES
from reconciler.providers import SqliteTenant
from reconciler.rendering.values import title
from schema.settings import declared_facts
from tests.conftest import TENANT_YAML

ANN = '{extension: "1001", name: Ann, package: Basic, devices: ["1030"]'
BOB = '{extension: "1002", name: Bob, package: Basic, devices: ["1030"]'
LINE = '{number: "3000", members: [{extension: "1001"}, {extension: "1002"}]}'

CASES = {
    "a direct dial number moving between two users is released first": (
        f'users:\n  - {ANN}, direct_dial_number: "024801000"}}\n  - {BOB}}}\n',
        f'users:\n  - {ANN}}}\n  - {BOB}, direct_dial_number: "024801000"}}\n',
        {"release_unique_values": ["update user 1001"],
         "update_then_create_users": ["update user 1002"]}),
    "a line that is gone is deleted before the users it held": (
        f"users:\n  - {ANN}}}\nshared_lines:\n  - {{number: \"3000\", members: "
        '[{extension: "1001"}]}\n',
        "users: []\n",
        {"delete_lines": ["delete shared_line 3000"], "delete_users": ["delete user 1001"]}),
    "a leaving member is detached before it is deleted": (
        f"users:\n  - {ANN}}}\n  - {BOB}}}\nshared_lines:\n  - {LINE}\n",
        f'users:\n  - {ANN}}}\nshared_lines:\n  - {{number: "3000", members: '
        '[{extension: "1001"}]}\n',
        {"detach_members": ["update shared_line 3000"], "delete_users": ["delete user 1002"]}),
    "a renumber in place, its memberships carried": (
        f"users:\n  - {ANN}}}\nshared_lines:\n  - {{number: \"3000\", members: "
        '[{extension: "1001"}]}\n',
        'users:\n  - {extension: "1005", previous_extension: "1001", name: Ann, '
        'package: Basic, devices: ["1030"]}\nshared_lines:\n  - {number: "3000", members: '
        '[{extension: "1005"}]}\n',
        {"renumber": ["renumber user 1001 to 1005"]}),
    "users are updated, then created; lines created once their members exist": (
        f"users:\n  - {ANN}}}\n",
        f'users:\n  - {ANN.replace("Ann", "Anna")}}}\n  - {BOB}}}\n'
        f"shared_lines:\n  - {LINE}\n",
        {"update_then_create_users": ["update user 1001", "create user 1002"],
         "create_then_update_lines": ["create shared_line 3000"]}),
}


def _tree(root: Path, users: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tenant.yaml").write_text(TENANT_YAML)
    (root / "Main").mkdir(exist_ok=True)
    (root / "Main" / "main.yaml").write_text(textwrap.dedent(users))
    return root


@pytest.mark.parametrize("name", list(CASES))
def test_each_phase_yields_its_steps(name: str, tmp_path: Path) -> None:
    before, after, expected = CASES[name]
    tenant = SqliteTenant(tmp_path / "tenant.db")
    config = load_config(_tree(tmp_path / "before", before))
    apply_plan(build_plan(config, tenant.read_state()), tenant,
               declared_facts(config.settings))
    config = load_config(_tree(tmp_path / "after", after))
    transition = checked_transition(config, tenant.read_state())
    found = {phase.__name__: [title(change) for change in phase(transition)]
             for phase in PHASES}
    assert {phase: steps for phase, steps in found.items() if steps} == expected
    plan = build_plan(config, tenant.read_state())
    apply_plan(plan, tenant, declared_facts(config.settings), force=True)
    assert build_plan(config, tenant.read_state()).is_empty
    assert tenant.check_integrity() == []
