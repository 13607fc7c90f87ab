"""JSON Schemas of the config files, for editors (draft-07, which the YAML language
server reads), generated from the same pydantic models that validate them.

    site_file_schema()    a file of a site folder: its lists of resources and `site:`
    tenant_file_schema()  tenant.yaml

The schema is an editor's first check, not the rulebook: cross-object rules
(numbering plan, seats, members) are only in `reconcile validate`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, create_model

from schema import kinds
from schema.settings import SiteSettings, TenantSettings

DRAFT = "http://json-schema.org/draft-07/schema#"
SITE_FILE = "site-file.schema.json"
TENANT_FILE = "tenant-file.schema.json"


def site_file_schema() -> dict[str, Any]:
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
    return _draft_07(model.model_json_schema(ref_template="#/definitions/{model}"),
                     "A file of a site folder under sites/: any of its lists, and `site:`.")


def tenant_file_schema() -> dict[str, Any]:
    return _draft_07(TenantSettings.model_json_schema(ref_template="#/definitions/{model}"),
                     "sites/tenant.yaml: the tenant's facts and settings.")


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
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_as_type(value) for key, value in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = options[0] if options[1] == {"type": "null"} else options[1]
        if isinstance(other.get("type"), str):
            del node["anyOf"]
            node.update(other)
            node["type"] = [other["type"], "null"]
    return node
