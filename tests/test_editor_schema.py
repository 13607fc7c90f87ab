"""The editor schema: generated from the models, committed, and true to them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from reconciler.commands.editor_schema import SCHEMAS, schema_text
from tests.conftest import EXAMPLE_SITES, REPO, Run

SITE_SCHEMA = json.loads((REPO / "schema" / "site-file.schema.json").read_text())
TENANT_SCHEMA = json.loads((REPO / "schema" / "tenant-file.schema.json").read_text())


@pytest.mark.parametrize("which", sorted(SCHEMAS))
def test_the_committed_schema_is_the_generated_one(which: str) -> None:
    name, make = SCHEMAS[which]
    committed = (REPO / "schema" / name).read_text()
    assert committed == schema_text(make()), (
        f"schema/{name} is stale: run `reconcile schema --write schema` and commit it")


def test_reconcile_schema_prints_and_writes_them(run: Run, tmp_path: Path) -> None:
    printed = run("schema", "tenant")
    assert printed.exit_code == 0 and json.loads(printed.stdout) == TENANT_SCHEMA
    assert run("schema", "--write", "out").exit_code == 0
    assert json.loads((tmp_path / "out" / "site-file.schema.json").read_text()) == SITE_SCHEMA


@pytest.mark.parametrize("schema", [SITE_SCHEMA, TENANT_SCHEMA], ids=["site", "tenant"])
def test_it_is_draft_07_and_every_field_says_what_it_is(schema: dict[str, Any]) -> None:
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$defs" not in json.dumps(schema)
    for owner, properties in _properties(schema):
        for name, field in properties.items():
            assert field.get("description"), f"{owner}.{name} has no description"
            if owner != "SiteFile":
                assert field.get("examples"), f"{owner}.{name} has no example"
            for example in field.get("examples", []):
                Draft7Validator({**field, "definitions": schema.get("definitions", {})}
                                ).validate(example)


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [("SiteFile" if "users" in schema["properties"] else "TenantSettings",
              schema["properties"])]
    found += [(name, definition["properties"])
              for name, definition in schema.get("definitions", {}).items()]
    return found


def _every_valid_site_file() -> list[Path]:
    return sorted(path for path in EXAMPLE_SITES.rglob("*.yaml") if path.name != "tenant.yaml")


@pytest.mark.parametrize("path", _every_valid_site_file(), ids=lambda p: p.name)
def test_the_schema_accepts_the_example(path: Path) -> None:
    assert list(Draft7Validator(SITE_SCHEMA).iter_errors(yaml.safe_load(path.read_text()))) == []


def test_the_schema_accepts_an_imported_tree(run: Run, example_sites: Path,
                                             tmp_path: Path) -> None:
    assert run("apply", "--auto-approve", str(example_sites)).exit_code == 0
    assert run("import", "--out", "imported").exit_code == 0
    for path in (tmp_path / "imported").rglob("*.yaml"):
        schema = TENANT_SCHEMA if path.name == "tenant.yaml" else SITE_SCHEMA
        assert list(Draft7Validator(schema).iter_errors(yaml.safe_load(path.read_text()))) == []


def test_the_tenant_schema_accepts_the_example() -> None:
    document = yaml.safe_load((EXAMPLE_SITES / "tenant.yaml").read_text())
    assert list(Draft7Validator(TENANT_SCHEMA).iter_errors(document)) == []


@pytest.mark.parametrize(("edit", "complaint"), [
    (lambda user: user | {"colour": "red"}, "Additional properties are not allowed"),
    (lambda user: user | {"extension": 997}, "997 is not of type 'string'"),
    (lambda user: user | {"extension": "9"}, "does not match"),
    (lambda user: user | {"password": "hunter22"}, "'hunter22' is not valid"),
    (lambda user: {k: v for k, v in user.items() if k != "name"}, "'name' is a required"),
])
def test_the_schema_refuses_what_validate_refuses(edit: Any, complaint: str) -> None:
    user = yaml.safe_load((EXAMPLE_SITES / "Main" / "users.yaml").read_text())["users"][0]
    errors = [error.message for error in
              Draft7Validator(SITE_SCHEMA).iter_errors({"users": [edit(user)]})]
    assert any(complaint in message for message in errors), errors


def test_a_hot_desk_user_with_a_device_is_flagged() -> None:
    desk = {"extension": "0901", "name": "A", "package": "P", "devices": ["1030"]}
    errors = list(Draft7Validator(SITE_SCHEMA).iter_errors({"hot_desk_users": [desk]}))
    assert errors and "'devices' was unexpected" in errors[0].message


def test_the_example_files_point_their_editor_at_the_schema() -> None:
    for path in [*_every_valid_site_file(), EXAMPLE_SITES / "tenant.yaml"]:
        first = path.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{path} does not start with the yaml-language-server line"
        assert (path.parent / match[1]).resolve() == (
            REPO / "schema" / ("tenant-file.schema.json" if path.name == "tenant.yaml"
                               else "site-file.schema.json"))


def test_the_schema_follows_the_secret_prefix_validate_is_given(run: Run) -> None:
    printed = run("schema", "--secret-prefix", "ACME_PW_")
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    user = {"extension": "0901", "name": "A", "package": "P", "devices": ["1030"]}
    for env, accepted in (("ACME_PW_0901", True), ("RECONCILER_PW_0901", False)):
        errors = list(Draft7Validator(schema).iter_errors(
            {"users": [user | {"password": {"env": env}}]}))
        assert (errors == []) is accepted, (env, errors)
    empty = run("schema", "--secret-prefix", " ")
    assert empty.exit_code == 1 and "the secret prefix is empty" in empty.stderr
    assert "Traceback" not in empty.output
