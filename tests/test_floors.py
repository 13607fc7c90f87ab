"""Every lower bound pyproject.toml declares is the version .ci/floors.txt pins, so the
floor CI installs and tests (.ci/run) is the one users are promised."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def _lower_bounds() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"], *extras["postgresql"], *extras["list-download"]]
    bounds = {}
    for requirement in declared:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?>=([0-9][0-9.]*)(?:,<\d+)?",
                             requirement.replace(" ", ""))
        assert match, f"{requirement}: give a lower bound (>=), tested at .ci/floors.txt"
        bounds[match[1].lower()] = match[2]
    return bounds


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / ".ci" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _same(bound: str, pin: str) -> bool:
    def parts(version: str) -> list[int]:
        return [int(p) for p in version.split(".")] + [0] * (3 - version.count(".") - 1)
    return parts(bound) == parts(pin)


def test_the_floor_ci_installs_is_each_declared_lower_bound() -> None:
    bounds, pins = _lower_bounds(), _pins()
    for name, bound in bounds.items():
        assert name in pins, f"{name}>={bound} is declared but its floor is not tested"
        assert _same(bound, pins[name]), f"{name}: declared >={bound}, tested at {pins[name]}"
    # psycopg[binary] brings psycopg-binary of the same version
    assert pins.get("psycopg-binary") == pins["psycopg"]
    assert set(pins) - set(bounds) <= {"psycopg-binary"}


def test_ci_runs_the_tests_at_the_floors() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert "-c .ci/floors.txt" in script
    assert re.search(r"\.venv-floors/bin/pytest", script)
