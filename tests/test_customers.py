"""Many customers from one repository: `reconcile validate|plan|apply DIR DIR...`, each
customer alone against its own tenant, one summary, exit codes that add up."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SITES, Run
from tests.postgres_server import tenant_url
from tests.tenant_helpers import name_tenant


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    """customers/acme and customers/globex: the example tree, each its own tenant."""
    root = tmp_path / "customers"
    for name in ("acme", "globex"):
        shutil.copytree(EXAMPLE_SITES, root / name)
        name_tenant(root / name, name.capitalize())
    return root


def _table(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"\d+ customer\(s\):", line))
    return [line.split() for line in lines[start + 2:]]


def test_each_customer_is_planned_alone_and_summed_up(run: Run, customers: Path) -> None:
    (customers / "broken").mkdir()
    shutil.copytree(EXAMPLE_SITES, customers / "broken", dirs_exist_ok=True)
    (customers / "broken" / "Main" / "bad.yaml").write_text("users: [\n")
    dirs = [str(customers / name) for name in ("acme", "broken", "globex")]
    result = run("plan", *dirs, "--detailed-exitcode")
    assert result.exit_code == 1  # one failed: the others were still planned
    assert "== customer acme (" in result.stdout and "== customer globex (" in result.stdout
    assert _table(result.stdout) == [["acme", "8", "0", "0", "0", "changes"],
                                     ["broken", "-", "-", "-", "-", "failed"],
                                     ["globex", "8", "0", "0", "0", "changes"]]
    assert "customer broken:" in result.stderr
    assert re.search(r"customers/broken/Main/bad\.yaml:2:1: .*\[yaml\.syntax\]", result.stderr)
    shutil.rmtree(customers / "broken")
    healthy = run("plan", *dirs[::2], "--detailed-exitcode")
    assert healthy.exit_code == 2


def test_applied_each_to_its_own_tenant_and_then_nothing_to_do(run: Run, customers: Path,
                                                               tmp_path: Path) -> None:
    dirs = [str(customers / "acme"), str(customers / "globex")]
    applied = run("apply", *dirs, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert sorted(p.name for p in (tmp_path / ".reconciler").glob("*.db")) == [
        "acme.db", "globex.db"]
    (tmp_path / "plans").mkdir()
    planned = run("plan", *dirs, "--detailed-exitcode", "--out", "plans/{dir}.json")
    assert planned.exit_code == 0, planned.output
    assert _table(planned.stdout) == [["acme", "0", "0", "0", "0", "no", "changes"],
                                      ["globex", "0", "0", "0", "0", "no", "changes"]]
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["acme.json",
                                                                      "globex.json"]
    reviewed = run("apply", *dirs, "--plan", "plans/{dir}.json", "--auto-approve")
    assert reviewed.exit_code == 0, reviewed.output
    # each tenant is its customer's: acme's tree against globex's tenant is refused
    crossed = run("plan", dirs[0], "--tenant", f"sqlite:///{tmp_path}/.reconciler/globex.db")
    assert crossed.exit_code == 1 and "Globex" in crossed.stderr


def test_a_shared_url_or_file_needs_dir(run: Run, customers: Path) -> None:
    dirs = [str(customers / "acme"), str(customers / "globex")]
    shared = run("plan", *dirs, "--tenant", "sqlite:///one.db")
    assert shared.exit_code == 1 and "need --tenant holding {dir}" in shared.output
    out = run("plan", *dirs, "--out", "plan.json")
    assert out.exit_code == 1 and "need --out holding {dir}" in out.output
    json = run("plan", *dirs, "--format", "json")
    assert json.exit_code == 1 and "one document per customer" in json.output


def test_a_folder_name_that_is_not_plain_is_refused(run: Run, customers: Path) -> None:
    odd = customers / "acme&tenant=globex"
    shutil.copytree(customers / "acme", odd)
    result = run("plan", str(customers / "globex"), str(odd))
    assert result.exit_code == 1
    assert "letters, digits, '.', '_' and '-' only" in result.stderr


def test_each_customer_reads_only_its_own_passwords(run: Run, customers: Path) -> None:
    for name in ("acme", "globex"):
        users = customers / name / "Main" / "users.yaml"
        users.write_text(users.read_text().replace(
            'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_acme_0997}', 1))
    result = run("validate", str(customers / "acme"), str(customers / "globex"),
                 "--secret-prefix", "RECONCILER_PW_{dir}_")
    assert result.exit_code == 1
    assert _table(result.stdout) == [["acme", "-", "-", "-", "-", "ok"],
                                     ["globex", "-", "-", "-", "-", "failed"]]
    assert "password variable RECONCILER_PW_acme_0997 does not start with " \
        "RECONCILER_PW_globex_" in result.stderr


def test_one_database_holds_a_tenant_per_customer(run: Run, customers: Path,
                                                  postgres_server: str) -> None:
    base = tenant_url(postgres_server, f"many{uuid.uuid4().hex[:8]}").split("?")[0]
    dirs = [str(customers / "acme"), str(customers / "globex")]
    applied = run("apply", *dirs, "--auto-approve", "--tenant", base + "?tenant={dir}")
    assert applied.exit_code == 0, applied.output
    again = run("plan", *dirs, "--detailed-exitcode", "--tenant", base + "?tenant={dir}")
    assert again.exit_code == 0, again.output


def test_markdown_puts_the_table_first_and_folds_each_plan_within_one_comment(
        run: Run, customers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.commands import many_customers as module

    dirs = [str(customers / "acme"), str(customers / "globex")]
    full = run("plan", *dirs, "--format", "markdown")
    assert full.exit_code == 0, full.output
    text = full.stdout
    assert text.startswith("### iPECS Cloud plans for 2 customer(s)\n\n| customer |")
    assert text.index("| `globex` | 8 |") < text.index("<details><summary>Customer `acme`")
    assert text.count("<details><summary>Customer") == 2
    monkeypatch.setattr(module, "COMMENT_LIMIT", len(text) - 100)
    cut = run("plan", *dirs, "--format", "markdown").stdout
    assert len(cut) <= len(text) - 100
    assert cut.count("<details><summary>Customer") == 1
    assert "its plan is too long for this comment; see the CI log" in cut


def _git(*args: str, cwd: Path) -> None:
    import subprocess

    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   cwd=cwd, check=True, capture_output=True)


def test_only_the_customers_a_change_touched(run: Run, customers: Path,
                                             tmp_path: Path) -> None:
    """A file changed, added or removed under a customer's folder since the ref is a
    change of that customer; nothing else is."""
    (customers / "initech").mkdir()
    shutil.copytree(EXAMPLE_SITES, customers / "initech", dirs_exist_ok=True)
    _git("init", "--quiet", "-b", "main", cwd=tmp_path)
    _git("add", "customers", cwd=tmp_path)
    _git("commit", "--quiet", "-m", "base", cwd=tmp_path)
    users = customers / "acme" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("test vqm", "test vqm 2"))
    _git("commit", "--quiet", "-am", "acme renames", cwd=tmp_path)
    (customers / "globex" / "Main" / "new.yaml").write_text("users: []\n")  # not committed
    dirs = [str(customers / name) for name in ("acme", "globex", "initech")]
    listed = run("customers", "changed", *dirs, "--since", "HEAD~1")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {"name": "acme", "dir": str(customers / "acme")},
        {"name": "globex", "dir": str(customers / "globex")}]
    planned = run("plan", *dirs, "--changed-since", "HEAD~1")
    assert [row[0] for row in _table(planned.stdout)] == ["acme", "globex"]
    assert "initech" not in planned.stdout
    (customers / "globex" / "Main" / "new.yaml").unlink()
    one = run("plan", *dirs, "--changed-since", "HEAD")
    assert one.exit_code == 0 and "no config directory changed since HEAD" in one.stdout
    bad = run("plan", *dirs, "--changed-since", "no-such-ref")
    assert bad.exit_code == 1 and "--changed-since takes a ref of this repository" in bad.stderr


def test_a_file_moved_between_customers_changes_both_and_names_match_whole(
        run: Run, customers: Path, tmp_path: Path) -> None:
    """Both sides of a rename are a change (git pairs them as one rename otherwise), and
    `acme` is not changed by a file of `acme-old`, whose name it starts."""
    shutil.copytree(EXAMPLE_SITES, customers / "acme-old")
    _git("init", "--quiet", "-b", "main", cwd=tmp_path)
    _git("add", "customers", cwd=tmp_path)
    _git("commit", "--quiet", "-m", "base", cwd=tmp_path)
    _git("mv", "customers/globex/Main/users.yaml", "customers/acme-old/Main/more.yaml",
         cwd=tmp_path)
    _git("commit", "--quiet", "-m", "move", cwd=tmp_path)
    dirs = [str(customers / name) for name in ("acme", "acme-old", "globex")]
    listed = run("customers", "changed", *dirs, "--since", "HEAD~1")
    assert listed.exit_code == 0, listed.output
    assert [row["name"] for row in json.loads(listed.stdout)] == ["acme-old", "globex"]
    missing = run("customers", "changed", str(customers / "nope"), "--since", "HEAD")
    assert missing.exit_code == 1 and "config directory" in missing.stderr \
        and "does not exist" in missing.stderr


def test_one_directory_fills_dir_too_as_a_ci_matrix_runs_it(run: Run, customers: Path,
                                                            tmp_path: Path) -> None:
    """One template for every job: `{dir}` in the URL, --out and the password prefix is
    filled for a single config directory as for several."""
    users = customers / "acme" / "Main" / "users.yaml"
    users.write_text(users.read_text().replace(
        'name: "0997"', 'name: "0997"\n    password: {env: RECONCILER_PW_acme_0997}', 1))
    (tmp_path / "plans").mkdir()
    env = {"RECONCILER_TENANT": "sqlite:///tenants-{dir}.db",
           "RECONCILER_SECRET_PREFIX": "RECONCILER_PW_{dir}_",
           "RECONCILER_PW_acme_0997": "Secret-0997x"}
    planned = run("plan", str(customers / "acme"), "--out", "plans/{dir}.json", env=env)
    assert planned.exit_code == 0, planned.output
    assert (tmp_path / "plans" / "acme.json").is_file()
    applied = run("apply", str(customers / "acme"), "--plan", "plans/{dir}.json",
                  "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert (tmp_path / "tenants-acme.db").is_file()


def test_an_unreachable_tenant_is_said_under_its_customer(run: Run, customers: Path,
                                                          tmp_path: Path) -> None:
    (tmp_path / "tenants").mkdir()
    (tmp_path / "tenants" / "acme.db").mkdir()  # not a database: acme's tenant fails
    result = run("plan", str(customers / "acme"), str(customers / "globex"),
                 "--tenant", f"sqlite:///{tmp_path}/tenants/{{dir}}.db")
    assert result.exit_code == 1
    assert _table(result.stdout) == [["acme", "-", "-", "-", "-", "failed"],
                                     ["globex", "8", "0", "0", "0", "changes"]]
    assert result.stderr.startswith("customer acme:\nerror:")
