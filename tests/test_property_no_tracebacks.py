"""Whatever is typed into a config file, the user gets problems with places, never a crash.

Hypothesis writes arbitrary text, and arbitrary YAML-shaped data, into a site
file and into tenant.yaml; loading must either succeed or raise ConfigError
whose every problem names a known rule and a file:line:col inside the tree.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.loading.config_loading import load_config
from reconciler.runtime.errors import ConfigError
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


members = st.lists(st.fixed_dictionaries(
    {"extension": st.sampled_from(["0901", "1001", "1002", "55"])},
    optional={"button": st.integers(-1, 3), "ring_delay": st.sampled_from([0, 3, 4, 30, 33])}),
    max_size=3)
resources = st.fixed_dictionaries({
    "users": st.lists(st.fixed_dictionaries(
        {"extension": st.sampled_from(["1001", "1002", "0901", "10"]),
         "name": st.sampled_from(["A", "", "no"]),
         "package": st.sampled_from(["Basic", "Premium", "Gold"]),
         "devices": st.lists(st.sampled_from(["1030", "iPECS One", "IP-DECT 110"]),
                             max_size=3)},
        optional={"mac": st.sampled_from(["001A2B3C4D5E", "xx"]),
                  "direct_dial_number": st.sampled_from(["0248", "0249"]),
                  "previous_extension": st.sampled_from(["1001", "1003"])}), max_size=3),
    "hot_desk_users": st.lists(st.fixed_dictionaries(
        {"extension": st.sampled_from(["0901", "2001", "1001"]), "name": st.just("D"),
         "package": st.sampled_from(["Basic", "Premium"])},
        optional={"group_member_type": st.sampled_from(["multi_site", "single_site"])}),
        max_size=2),
    "shared_lines": st.lists(st.fixed_dictionaries(
        {"number": st.sampled_from(["555", "300", "10"]), "members": members},
        optional={"direct_dial_number": st.sampled_from(["0248", "0250"]),
                  "previous_number": st.sampled_from(["556", "300"])}), max_size=2),
})


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(resources, resources)
def test_plan_and_apply_of_any_config_never_crash(first: object, second: object) -> None:
    """Through the CLI, as a user runs it: apply one config, then plan and apply another.
    Exit codes stay in the contract and no internal error ever shows."""
    from reconciler.cli import cli
    from tests.conftest import cli_runner

    with tempfile.TemporaryDirectory() as tmp:
        sites = Path(tmp) / "sites"
        (sites / "Main").mkdir(parents=True)
        (sites / "tenant.yaml").write_text(TENANT_YAML)
        tenant = f"sqlite:///{tmp}/t.db"
        for data in (first, second):
            (sites / "Main" / "x.yaml").write_text(yaml.safe_dump(data))
            for args in (["plan", "--detailed-exitcode"], ["apply", "--auto-approve", "--force"]):
                result = cli_runner().invoke(cli, [*args, str(sites), "--tenant", tenant])
                assert result.exit_code in (0, 1, 2), result.output
                assert "internal error" not in result.output, result.output
                assert "Traceback" not in result.output
                # Refused before writing (by a rule), never half way by the tenant.
                assert not re.search(r"step \d+ of \d+ failed", result.stderr), result.stderr
