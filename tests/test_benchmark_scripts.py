"""The benchmark scripts keep working (their figures are in BENCHMARKS.md); run small."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

#: Runs the benchmark scripts at a small size: slow, skipped by -m 'not slow'.
pytestmark = pytest.mark.slow


def test_tenant_at_scale_runs_on_a_small_tenant() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/tenant_at_scale.py", "--numbers", "400", "--sites", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "no-change plan, end to end" in result.stdout
    # 1% of 400 numbers renamed: 4 updates.
    assert result.stdout.rstrip().splitlines()[-1].split() == ["changes", "in", "that", "plan",
                                                               "4"]


def test_yaml_fast_path_runs() -> None:
    result = subprocess.run(
        [sys.executable, "yaml_fast_path.py", "--numbers", "300"],
        cwd=REPO / "benchmarks", capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout


def test_tenant_at_scale_runs_side_by_side_with_postgresql(postgres_server: str) -> None:
    from tests.postgres_server import tenant_url

    url = tenant_url(postgres_server, "benchsmoke")
    result = subprocess.run(
        [sys.executable, "benchmarks/tenant_at_scale.py", "--numbers", "300", "--sites", "2",
         "--postgres", url], cwd=REPO, capture_output=True, text=True, timeout=300,
        check=False)
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL: no-change plan, end to end" in result.stdout
    assert "apply (3 changes), PostgreSQL" in result.stdout


def test_speed_targets_print_every_ratio() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/speed_targets.py", "--numbers", "300", "--sites", "3",
         "--rounds", "1"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    for target in ("cold plan / floor", "1% change / no-change plan", "plan --out / plan",
                   "peak memory of plan --out", "reconcile plan of the example",
                   "click, PyYAML, pydantic imported, one model", "linear growth"):
        assert target in result.stdout, target


def test_list_download_plan_runs_on_both_readers() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/list_download_plan.py", "--users", "180", "--sites", "3",
         "--rounds", "1", "--read-rows", "270"], cwd=REPO, capture_output=True, text=True,
        timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    for line in ("embedded tenant", "download, openpyxl", "download, calamine",
                 "reading 270 rows, calamine", "calamine reads in"):
        assert line in result.stdout, line


def test_many_customers_runs_both_ways() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/many_customers.py", "--customers", "3", "--users", "10",
         "--rounds", "1"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "one command / separate" in result.stdout


def test_storage_schema_compares_two_checkouts() -> None:
    """Run small, against this very checkout as the baseline."""
    result = subprocess.run(
        [sys.executable, "benchmarks/storage_schema.py", "--baseline", str(REPO),
         "--numbers", "200", "--sites", "2", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    stages = [line.split()[:3] for line in result.stdout.splitlines()[2:]]
    assert stages == [["sqlite", "create", "all"], ["sqlite", "renumber", "all"]]


def test_changed_customers_times_a_repository_of_customers() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/changed_customers.py", "--customers", "5", "--rounds", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "1 of 5 changed" in result.stdout
