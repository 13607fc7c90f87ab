"""Whatever is typed into a config file, the user gets problems with places, never a crash.

Hypothesis writes arbitrary text, and arbitrary YAML-shaped data, into a site
file and into tenant.yaml; loading must either succeed or raise ConfigError
whose every problem names a known rule and a file:line:col inside the tree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config_loading import load_config
from reconciler.errors import ConfigError
from schema.rulebook import RULES
from tests.conftest import TENANT_YAML

WORDS = ["users", "hot_desk_users", "shared_lines", "extension", "number", "members",
         "name", "package", "devices", "Basic", "site", "prune", "password", "env", "mac",
         "ring_delay", "button", "0901", "01230", "yes", "no", "~", "null", "true", "1e3",
         "- ", ": ", "\n", "  ", "{", "}", "[", "]", ",", "&a", "*a", "<<", "!!str", "!!int",
         "!!python/object", '"', "'", "#", "|", ">", "\t", "---", "...", "%YAML 1.1"]

yaml_text = st.lists(st.sampled_from(WORDS) | st.text(max_size=4), max_size=40).map("".join)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | \
    st.sampled_from(["0901", "Basic", "1030"])
yaml_data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(WORDS[:16]) | st.text(max_size=5), inner, max_size=5),
    max_leaves=25,
)


def _load(site_text: str, tenant_text: str = TENANT_YAML) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sites = Path(tmp) / "sites"
        (sites / "Main").mkdir(parents=True)
        (sites / "tenant.yaml").write_text(tenant_text)
        (sites / "Main" / "x.yaml").write_text(site_text)
        try:
            load_config(sites)
        except ConfigError as error:
            assert error.problems
            for problem in error.problems:
                assert problem.rule in RULES, problem
                assert problem.location.line >= 1 and problem.location.column >= 1
                assert "sites" in problem.location.path


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(yaml_text)
def test_any_text_in_a_site_file(text: str) -> None:
    _load(text)


@SETTINGS
@given(yaml_data)
def test_any_yaml_data_in_a_site_file(data: object) -> None:
    _load(yaml.safe_dump({"users": [data], "shared_lines": data}))


@SETTINGS
@given(yaml_text)
def test_any_text_in_tenant_yaml(text: str) -> None:
    _load("users: []\n", tenant_text=text)
