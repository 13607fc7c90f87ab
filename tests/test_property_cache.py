"""The loader's speedups (the cache of validated site files, the fast events loader) are
second paths for one job (reading a tree), so a property holds them to the first: for
any tree, read by the loader alone (`Speedups.none()`: the exact YAML loader, no
cache), with the events loader, cold into a cache, and warm from it (after one file
changed), the problems are the same and so is the plan (issue 22, point 2)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.loading.config_loading import load_config
from reconciler.loading.site_file_cache import open_cache
from reconciler.loading.speedups import Speedups
from reconciler.plans import build_plan
from reconciler.plans.serializing import plan_document
from reconciler.runtime.errors import ConfigError
from schema.state import TenantState
from tests.test_property_apply import tenants, write_sites

#: Hundreds of trees read three ways: slow, skipped by -m 'not slow'.
pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "300"))

#: Edits a person (or a hostile pull request) makes to one site file.
BREAKAGES = ["", "users: [\n", "users:\n  - {extension: 1}\n", "site: {prune: maybe}\n",
             "shared_lines:\n  - {number: '999', members: [{extension: '404'}]}\n",
             "users:\n  - {extension: '100', name: Twin, package: Basic, devices: ['1030']}\n",
             "hot_desk_users:\n  - {extension: '0777', name: \"\\u202e\", package: Gold}\n",
             "# only a comment\n"]


def _read(root: Path, cache_home: Path | None, alone: bool = False
          ) -> tuple[list[str], str | None]:
    """The problems, and the plan against an empty tenant (as its JSON document).
    `alone`: no speedup at all."""
    cache = None
    if cache_home is not None:
        cache, note = open_cache(root, {"XDG_CACHE_HOME": str(cache_home)})
        assert cache is not None, note
    try:
        config = load_config(root, speedups=Speedups.none() if alone else Speedups(cache))
    except ConfigError as error:
        return [str(problem) for problem in error.problems], None
    finally:
        if cache is not None:
            cache.close()
    plan = build_plan(config, TenantState())
    document = plan_document(plan, config.digest, "sha256:")
    return [str(problem) for problem in config.warnings], json.dumps(document, sort_keys=True)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=tenants(), breakage=st.sampled_from(BREAKAGES), site=st.sampled_from(["A", "B"]),
       later=st.sampled_from(BREAKAGES))
def test_cached_or_not_the_same_problems_and_the_same_plan(spec: object, breakage: str,
                                                           site: str, later: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_sites(Path(tmp), spec)  # type: ignore[arg-type]
        extra = root / site / "extra.yaml"
        extra.write_text(breakage)
        cache_home = Path(tmp) / "cache"
        cwd = os.getcwd()
        os.chdir(tmp)  # files are shown relative to where the command runs
        try:
            plain = _read(Path("sites"), None, alone=True)
            assert _read(Path("sites"), None) == plain  # the events loader
            assert _read(Path("sites"), cache_home) == plain  # cold: entries written
            assert _read(Path("sites"), cache_home) == plain  # warm: entries read
            extra.write_text(later)  # one file changed: the others come from the cache
            assert _read(Path("sites"), cache_home) == _read(Path("sites"), None, alone=True)
        finally:
            os.chdir(cwd)
