"""Every version a user is told to pin is the one the code says, with its changelog:
the tag the release steps (docs/releasing.md) create."""

from __future__ import annotations

import re

import reconciler
from tests.conftest import REPO

PINNED_IN = [*sorted((REPO / "examples").rglob("*.yml")), REPO / "README.md",
             *sorted((REPO / "docs").glob("*.md"))]
PIN = re.compile(r"ipecs-reconciler@(v[0-9][^\s\"'`]*)|^\s*rev:\s*(v[0-9]\S*)", re.MULTILINE)


def test_every_pin_names_this_version_s_tag() -> None:
    found = {}
    for path in PINNED_IN:
        for match in PIN.finditer(path.read_text()):
            found[f"{path.relative_to(REPO)}:{match.group(0).strip()}"] = (
                match[1] or match[2])
    assert len(found) >= 6  # the four workflows, pre-commit, pipx
    wrong = {where: tag for where, tag in found.items() if tag != f"v{reconciler.__version__}"}
    assert wrong == {}


def test_the_changelog_has_a_dated_section_for_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.+)$", changelog, re.MULTILINE)
    assert headings[0] == "Unreleased"
    version = re.escape(reconciler.__version__)
    assert any(re.fullmatch(rf"{version} \(\d{{4}}-\d{{2}}-\d{{2}}\)", h) for h in headings)


def test_the_version_is_written_once() -> None:
    assert 'dynamic = ["version"]' in (REPO / "pyproject.toml").read_text()
    written = [path for path in (REPO / "reconciler").rglob("*.py")
               if re.search(r"^__version__\s*=", path.read_text(), re.MULTILINE)]
    assert written == [REPO / "reconciler" / "__init__.py"]
