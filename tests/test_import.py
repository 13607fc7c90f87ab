"""`reconcile import`: an existing tenant into git, exactly, and without its secrets."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.applying import apply_plan
from reconciler.loading.config_loading import load_config
from reconciler.plans import build_plan
from reconciler.providers import Provider, SqliteTenant, open_provider
from reconciler.runtime.errors import ConfigError
from reconciler.writing.config_writing import _scalar
from reconciler.writing.importing import ImportRequest, import_run
from schema.settings import declared_facts
from schema.state import Kind, NewPassword, ResourceKey, TenantFacts, TenantState
from tests.conftest import REPO, Run
from tests.tenant_helpers import mark_unmanaged, mark_unmanaged_in
from tests.test_property_apply import tenants, write_sites

SECRET = "Sup3r-Secret-Pw!"
FACTS = TenantFacts("6.0", shared_line_licences=3, shared_licensing=True,
                    packages={"Basic": 10, "Premium": 10})


def _tree_text(root: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(root.rglob("*")) if path.is_file())


def _resources(state: TenantState) -> dict[ResourceKey, dict[str, object]]:
    return dict(state.resources)


def test_the_example_round_trips(run: Run, example_sites: Path, tmp_path: Path) -> None:
    assert run("apply", "--auto-approve", str(example_sites)).exit_code == 0
    result = run("import", "--out", "imported")
    assert result.exit_code == 0, result.output
    assert "imported 8 resource(s) of \"Example Tenant\"" in result.stdout
    assert "validates and plans no changes" in result.stdout
    imported = tmp_path / "imported"
    assert sorted(str(p.relative_to(imported)) for p in imported.rglob("*.yaml")) == [
        "Main/hot-desk-users.yaml", "Main/shared-lines.yaml", "Main/users.yaml", "tenant.yaml"]
    assert run("validate", "imported").exit_code == 0
    assert run("plan", "--detailed-exitcode", "imported").exit_code == 0
    # Applied to a fresh tenant, the imported tree makes the same tenant.
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run("apply", "--auto-approve", "imported", "--tenant", fresh).exit_code == 0
    original = open_provider(f"sqlite:///{tmp_path / '.reconciler' / 'tenant.db'}")
    again = open_provider(fresh)
    assert _resources(again.read_state()) == _resources(original.read_state())
    original.close()
    again.close()
    users = (imported / "Main" / "users.yaml").read_text()
    assert '  - extension: "0997"\n    name: "0997"\n' in users  # numbers stay text
    assert "password: {env: RECONCILER_PW_0997}" in users  # only as advice, in a comment
    assert yaml.safe_load(users)["users"][0].keys() >= {"extension", "devices"}
    assert all("password" not in user for user in yaml.safe_load(users)["users"])


def _by_hand(tmp_path: Path) -> SqliteTenant:
    """A tenant built through the provider, not by apply: some of it made by hand."""
    tenant = SqliteTenant(tmp_path / "by-hand.db")
    tenant.bind("By Hand")
    with tenant.lock():
        tenant.initialise(FACTS, "By Hand")
        tenant.create(ResourceKey("Main", Kind.USER, "0100"),
                      {"name": "Ann \"Lee\" \\ 李", "package": "Basic",
                       "devices": ["1030", "iPECS One Premium"], "mac": "020000000100",
                       "email": "ann@example.com", "password_rotation": 2},
                      NewPassword("$RECONCILER_PW_ANN", SECRET))
        tenant.create(ResourceKey("Main", Kind.HOT_DESK_USER, "0200"),
                      {"name": "Desk", "package": "Premium", "group_member_type": "multi_site"},
                      None)
        tenant.create(ResourceKey("Branch", Kind.USER, "3001"),
                      {"name": "Ivy", "package": "Basic", "devices": ["IP-DECT 110"]}, None)
        tenant.create(ResourceKey("Main", Kind.SHARED_LINE, "555"),
                      {"direct_dial_number": "024801028", "forward_to_vm": True,
                       "members": {"0100": {"button": 1, "ring_delay": 0},
                                   "0200": {"button": 2, "ring_delay": 6}}}, None)
    mark_unmanaged(tmp_path / "by-hand.db", "0200", "3001")
    return tenant


def test_a_tenant_built_by_hand_imports_without_its_secrets(run: Run, tmp_path: Path) -> None:
    tenant = _by_hand(tmp_path)
    url = f"sqlite:///{tenant.path}"
    result = run("import", "--tenant", url, "--out", "sites")
    assert result.exit_code == 0, result.output
    assert "its plan adopts 2 resource(s) made by hand and changes nothing else" in result.stdout
    text = _tree_text(tmp_path / "sites")
    stored_hash = sqlite3.connect(tenant.path).execute(
        "SELECT password_hash FROM users WHERE extension = '0100'").fetchone()[0]
    assert SECRET not in text and stored_hash not in text
    assert "# password: {env: RECONCILER_PW_ANN}" in text  # the variable it was set from
    assert "# password_rotation: 2" in text
    assert "# made by hand: declaring it adopts it" in text
    assert run("validate", "sites").exit_code == 0
    plan = run("plan", "--tenant", url, "--format", "json")
    changes = __import__("json").loads(plan.stdout)["changes"]
    assert sorted((c["action"], c["adopt"], c["number"]) for c in changes) == [
        ("update", True, "0200"), ("update", True, "3001")]
    # --adopt takes them over at once: the plan is then empty.
    adopted = run("import", "--tenant", url, "--out", "sites", "--force", "--adopt")
    assert adopted.exit_code == 0, adopted.output
    assert "adopted 2 resource(s) made by hand" in adopted.stdout
    assert run("plan", "--detailed-exitcode", "--tenant", url).exit_code == 0
    state = open_provider(url).read_state()
    assert len(state.managed) == len(state.resources) == 4


def test_import_never_overwrites_in_silence(run: Run, example_sites: Path,
                                            tmp_path: Path) -> None:
    assert run("apply", "--auto-approve", str(example_sites)).exit_code == 0
    refused = run("import", "--out", str(example_sites))
    assert refused.exit_code == 1
    assert "is not empty; import writes a whole tree" in refused.stderr
    (example_sites / "README.txt").write_text("ours")
    (example_sites / ".reconcilerignore").write_text("README.txt\n")
    before = (example_sites / "Main" / "users.yaml").read_text()
    assert "User Setup as the announcement page shows it" in before
    assert run("import", "--out", str(example_sites), "--force").exit_code == 0
    assert (example_sites / "README.txt").read_text() == "ours"
    assert "as imported" in (example_sites / "Main" / "users.yaml").read_text()
    assert not list(example_sites.glob(".reconciler-import-*"))
    assert run("plan", "--detailed-exitcode", str(example_sites)).exit_code == 0
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert "is not a folder" in run("import", "--out", str(a_file)).stderr


def test_only_some_sites(run: Run, tmp_path: Path) -> None:
    tenant = _by_hand(tmp_path)
    url = f"sqlite:///{tenant.path}"
    result = run("import", "--tenant", url, "--out", "branch", "--site", "Branch")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "branch").iterdir()) == ["Branch", "tenant.yaml"]
    assert run("plan", "--tenant", url, "--site", "Branch", "branch").exit_code == 0
    unknown = run("import", "--tenant", url, "--out", "x", "--site", "Nowhere")
    assert unknown.exit_code == 1 and "no site named Nowhere" in unknown.stderr


def test_a_half_finished_apply_is_finished_first(run: Run, tmp_path: Path) -> None:
    tenant = _by_hand(tmp_path)
    tenant.begin_apply("sha256:abc", 3, "tester")
    result = run("import", "--tenant", f"sqlite:///{tenant.path}", "--out", "x")
    assert result.exit_code == 1
    assert "an apply stopped half way" in result.stderr and "reconcile apply" in result.stderr
    assert not (tmp_path / "x").exists()


def test_a_site_that_cannot_be_a_folder_is_refused(run: Run, tmp_path: Path) -> None:
    tenant = SqliteTenant(tmp_path / "t.db")
    with tenant.lock():
        tenant.initialise(FACTS, "T")
        tenant.create(ResourceKey("..", Kind.USER, "0100"),
                      {"name": "A", "package": "Basic", "devices": ["1030"]}, None)
    result = run("import", "--tenant", f"sqlite:///{tenant.path}", "--out", "x")
    assert result.exit_code == 1
    assert 'site ".." cannot be a folder name' in result.stderr


@settings(max_examples=300)
@given(st.text())
def test_any_text_reads_back_as_itself(text: str) -> None:
    assert yaml.safe_load(f"value: {_scalar(text)}\n") == {"value": text}


@pytest.mark.slow  # a tenant at scale
def test_a_generated_tenant_of_10000_numbers_round_trips(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from tenant_at_scale import write_tenant

    write_tenant(tmp_path / "sites", 10_000, 10)
    config = load_config(tmp_path / "sites")
    tenant: Provider = open_provider(f"sqlite:///{tmp_path / 't.db'}")
    tenant.bind(config.settings.tenant)
    with tenant.lock():
        apply_plan(build_plan(config, tenant.read_state()), tenant,
                   declared_facts(config.settings))
    imported = import_run(tenant, ImportRequest(tmp_path / "imported"))
    assert imported.resources == 10_000 and imported.to_adopt == 0
    assert len(imported.sites) == 10
    assert build_plan(load_config(tmp_path / "imported"), tenant.read_state()).is_empty


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_tenant_apply_made_imports_exactly(tmp_path_factory: pytest.TempPathFactory,
                                                   data: st.DataObject) -> None:
    spec = data.draw(tenants())
    root = tmp_path_factory.mktemp("import")
    try:
        config = load_config(write_sites(root / "declared", spec))
    except ConfigError:
        assume(False)  # the generator may overfill a package
    tenant = SqliteTenant(root / "tenant.db")
    tenant.bind("Property")
    with tenant.lock():
        apply_plan(build_plan(config, tenant.read_state()), tenant,
                   declared_facts(config.settings))
    by_hand = data.draw(st.frozensets(st.sampled_from(sorted(spec.numbers()))))
    mark_unmanaged_in(tenant, *by_hand)
    before = tenant.read_state()
    imported = import_run(tenant, ImportRequest(root / "imported"))
    assert imported.to_adopt == len(by_hand)
    assert tenant.read_state().resources == before.resources  # import wrote nothing there
    again = import_run(tenant, ImportRequest(root / "imported", force=True, adopt=True))
    assert again.adopted == len(by_hand)
    after = tenant.read_state()
    assert after.resources == before.resources and after.managed == set(after.resources)
    imported_config = load_config(root / "imported")
    assert build_plan(imported_config, after).is_empty
    # Nothing was left out either: the tree alone makes the same tenant again.
    fresh = SqliteTenant(root / "fresh.db")
    fresh.bind("Property")
    with fresh.lock():
        apply_plan(build_plan(imported_config, fresh.read_state()), fresh,
                   declared_facts(imported_config.settings))
    assert fresh.read_state().resources == after.resources
    tenant.close()
    fresh.close()


@pytest.fixture(autouse=True)
def _no_real_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_PW_ANN", raising=False)


def test_imported_files_name_their_editor_schema(run: Run, example_sites: Path,
                                                 tmp_path: Path) -> None:
    """As the example tree does: an editor checks an imported file as it is typed."""
    assert run("apply", "--auto-approve").exit_code == 0
    assert run("import", "--out", str(tmp_path / "imported")).exit_code == 0
    first_lines = {path.relative_to(tmp_path / "imported").as_posix():
                   path.read_text().splitlines()[0]
                   for path in (tmp_path / "imported").rglob("*.yaml")}
    assert first_lines.pop("tenant.yaml") == \
        "# yaml-language-server: $schema=../schema/tenant-file.schema.json"
    assert first_lines and set(first_lines.values()) == {
        "# yaml-language-server: $schema=../../schema/site-file.schema.json"}
