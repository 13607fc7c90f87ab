"""Validators of the published standards our output follows (tests/fixtures/standards/)."""

from __future__ import annotations

import json

import jsonschema.protocols
import jsonschema.validators

from tests.conftest import REPO


def sarif_validator() -> jsonschema.protocols.Validator:
    """The published SARIF 2.1.0 schema, with the draft it declares: not a hand-written
    shape check."""
    schema = json.loads((REPO / "tests/fixtures/standards/sarif-schema-2.1.0.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
