"""JSON Schemas of the config files, for editors (draft-07, which the YAML language
server reads), generated from the same pydantic models that validate them.

    site_file_schema()    a file of a site folder: its lists of resources and `site:`
    tenant_file_schema()  tenant.yaml

The schema is an editor's first check, not the rulebook: cross-object rules
(numbering plan, seats, members) are only in `reconcile validate`. Within one file it
says what validate says (tests/test_schema_agreement.py holds both to one corpus):
the rules across a resource's fields are added here as draft-07 `if`/`then`, and
`validate` warns where a value's YAML type differs from the schema's
(`reconciler.loading.scalar_styles`). The one single-file rule draft-07 cannot say is that a
line names each member once (uniqueness by a field): only validate has it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, create_model

from schema import devices, kinds
from schema.fields import DEFAULT_SECRET_PREFIX
from schema.schema_files import SITE_FILE as SITE_FILE
from schema.schema_files import TENANT_FILE as TENANT_FILE
from schema.settings import SiteSettings, TenantSettings

DRAFT = "http://json-schema.org/draft-07/schema#"


def site_file_schema(secret_prefix: str = DEFAULT_SECRET_PREFIX) -> dict[str, Any]:
    lists: dict[str, Any] = {
        description.list_name: (list[description.model] | None, Field(  # type: ignore[name-defined]
            None, description=f"The {description.plural} of this site "
                              f"({description.portal_menu})."))
        for description in kinds.KINDS.values()}
    model = create_model(
        "SiteFile", __config__=ConfigDict(extra="forbid", title="ipecs-reconciler site file"),
        site=(SiteSettings | None, Field(None, description="This site's ownership and "
                                                           "safety settings (one per site).")),
        **lists)
    schema = _draft_07(model.model_json_schema(ref_template="#/definitions/{model}"),
                       "A file of a site folder under sites/: any of its lists, and `site:`.")
    schema["type"] = ["object", "null"]  # an empty or comment-only file declares nothing
    definitions = schema["definitions"]
    definitions["SecretRef"]["properties"]["env"]["pattern"] = (
        f"^{_escaped(secret_prefix)}[A-Za-z0-9_]*$")
    _devices_rules(definitions["User"])
    for user in ("User", "HotDeskUser"):
        definitions[user].setdefault("allOf", []).append(_rotation_needs_password())
    return schema


def tenant_file_schema() -> dict[str, Any]:
    return _draft_07(TenantSettings.model_json_schema(ref_template="#/definitions/{model}"),
                     "sites/tenant.yaml: the tenant's facts and settings.")


def _escaped(prefix: str) -> str:
    """The prefix as a regular expression both Python and ECMA-262 read the same."""
    return "".join(c if c.isalnum() or c == "_" else f"\\u{ord(c):04x}" for c in prefix)


def _devices_rules(user: dict[str, Any]) -> None:
    """The rules on a user's devices (`schema.rules.users`), as draft-07 says them: one
    client, one desk phone, or one of each; a desk phone plus a client needs `mac`; a
    client alone has no `mac`. Anything not a known client is a desk phone."""
    client = {"enum": sorted(devices.CLIENTS)}
    phone = {"not": client}
    both = {"allOf": [{"contains": client}, {"contains": phone}]}
    user["properties"]["devices"].update(minItems=1, maxItems=2)
    user.setdefault("allOf", []).extend([
        {"if": {"properties": {"devices": {"minItems": 2}}, "required": ["devices"]},
         "then": {"properties": {"devices": both}}},
        {"if": {"properties": {"devices": both}, "required": ["devices"]},
         "then": {"properties": {"mac": {"type": "string"}}, "required": ["mac"]}},
        {"if": {"properties": {"devices": {"items": client}}, "required": ["devices"]},
         "then": {"properties": {"mac": {"type": "null"}}}},
    ])


def _rotation_needs_password() -> dict[str, Any]:
    return {"if": {"properties": {"password_rotation": {"type": "integer"}},
                   "required": ["password_rotation"]},
            "then": {"properties": {"password": {"type": "object"}}, "required": ["password"]}}


def _draft_07(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """pydantic writes draft 2020-12; editors read draft-07: definitions, not $defs."""
    definitions = schema.pop("$defs", {})
    result = {"$schema": DRAFT, **schema, "description": description}
    if definitions:
        result["definitions"] = definitions
    flattened: dict[str, Any] = _nullable_as_type(result)
    return flattened


def _nullable_as_type(node: Any) -> Any:
    """`anyOf: [{type: string, ...}, {type: null}]` becomes `type: [string, null]`: the
    same schema, but an editor then names the broken constraint, not "not valid under
    any of the given schemas"."""
    if isinstance(node, list):
        return [_nullable_as_type(item) for item in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)  # 100, not 100.0: pydantic versions differ, the value does not
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_as_type(value) for key, value in node.items()}
    if "patternProperties" in node:
        # keys that match no pattern (a package name with a control character) are
        # refused, as validate refuses them; draft-07 would let them through
        node.setdefault("additionalProperties", False)
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = options[0] if options[1] == {"type": "null"} else options[1]
        if isinstance(other.get("type"), str):
            del node["anyOf"]
            node.update(other)
            node["type"] = [other["type"], "null"]
    return node
