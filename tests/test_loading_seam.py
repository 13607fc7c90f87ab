"""The loader behind its seam: the speedups it is handed change nothing it returns, and
each problem it reports carries the site it is in, so a site filter never reads a path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.loading import yaml_events
from reconciler.loading.config_loading import load_config
from reconciler.loading.speedups import DEFAULT, Speedups
from reconciler.plans import SiteFilter
from reconciler.runs import load_for_sites
from reconciler.runtime.errors import ConfigError
from tests.conftest import WriteTree

BROKEN_TREE = {
    # A cross-file rule's problem (a number twice) and a field's, in two sites.
    "Main/users.yaml": """\
        users:
          - {extension: "1001", name: Ann, package: Basic, devices: ["1030"]}
          - {extension: "1002", name: Bob, package: Basic, devices: ["1030"], colour: red}
        """,
    "Branch/users.yaml": """\
        users:
          - {extension: "1001", name: Cy, package: Basic, devices: ["1030"]}
        """,
    # The tree's layout: a folder inside a site is that site's; a YAML file outside
    # every site folder is nobody's.
    "Branch/old/users.yaml": "users: []\n",
    "stray.yaml": "users: []\n",
}


def _problems(root: Path) -> list[tuple[str, str | None]]:
    with pytest.raises(ConfigError) as raised:
        load_config(root)
    return [(f"{p.location.path}:{p.location.line} [{p.rule}]", p.site)
            for p in raised.value.problems]


def test_each_problem_carries_its_site(write_tree: WriteTree,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(BROKEN_TREE)
    monkeypatch.chdir(root.parent)
    found = _problems(Path("sites"))
    assert ("sites/Main/users.yaml:3 [schema.unknown-field]", "Main") in found
    assert ("sites/Branch/old [config.layout]", "Branch") in \
        [(where.replace(":1 ", " "), site) for where, site in found]
    assert ("sites/stray.yaml:1 [config.layout]", None) in found
    # A rule across files: each half of the pair in its own file's site.
    assert ("sites/Branch/users.yaml:2 [numbering.duplicate]", "Branch") in found
    assert ("sites/Main/users.yaml:2 [numbering.duplicate]", "Main") in found


def test_a_site_filter_keeps_the_chosen_sites_problems_and_everyones(
        write_tree: WriteTree, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(BROKEN_TREE)
    monkeypatch.chdir(root.parent)
    with pytest.raises(ConfigError) as raised:
        load_for_sites(Path("sites"), None, SiteFilter(excluded=["Main"]))
    kept = {(p.location.path, p.site) for p in raised.value.problems}
    assert ("sites/stray.yaml", None) in kept  # nobody's: it concerns everyone
    assert ("sites/Branch/old", "Branch") in kept
    assert all(site != "Main" for _, site in kept)


def test_the_loader_alone_reads_what_the_speedups_read(
        example_sites: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Speedups.none()` takes the events loader out of the path entirely (it is never
    asked), and the config is the same one."""
    fast = load_config(example_sites, speedups=DEFAULT)

    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("the events loader was asked")

    monkeypatch.setattr(yaml_events, "load", never)
    alone = load_config(example_sites, speedups=Speedups.none())
    assert alone.digest == fast.digest
    assert [(d.key, d.fields(), d.at()) for d in alone.declared] == \
        [(d.key, d.fields(), d.at()) for d in fast.declared]
    with pytest.raises(AssertionError, match="events loader was asked"):
        load_config(example_sites, speedups=DEFAULT)
