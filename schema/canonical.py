"""The canonical form a resource is compared in: a plain, JSON-able dict.

Only the fields an administrator wrote are managed: a field left out of the
YAML is the portal's business and never shows up as a change (kopf's "diff the
essence"). Explicit `null` is kept, so it clears the portal's value. The
password is write-only in the portal and is never part of the canonical form.

Members are keyed by extension, so reordering them in YAML is not a change and
a diff names the member that changed rather than a list index.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from schema import kinds
from schema.devices import in_portal_order
from schema.resources import Member, Resource
from schema.state import Fields, Kind

IDENTITY_FIELDS = {"extension", "number", "previous_extension", "previous_number"}
# Values the portal lets only one resource hold at a time. A direct dial number
# is unique across users and shared lines alike; the others exist on users only.
UNIQUE_FIELDS = ("direct_dial_number", "portal_id", "aad_id", "mac")
WRITE_ONLY_FIELDS = {"password"}
_ALWAYS_MANAGED = {"name", "package", "devices", "members"}


def _form_order(model: type[BaseModel]) -> tuple[str, ...]:
    names = list(model.model_fields)
    if "devices" in names:  # the device section follows the name and package on the form
        for name in ("mac", "devices"):
            names.remove(name)
            names.insert(names.index("package") + 1, name)
    return tuple(names)


_ORDER = {d.model: _form_order(d.model) for d in kinds.KINDS.values()}
#: Per model, the fields that can be managed, in form order: identity, write-only and
#: excluded fields taken out once here, not for each of 100,000 resources.
_MANAGEABLE = {model: tuple(name for name in order if not model.model_fields[name].exclude
                            and name not in IDENTITY_FIELDS | WRITE_ONLY_FIELDS)
               for model, order in _ORDER.items()}


def kind_of(resource: Resource) -> Kind:
    return kinds.of_model(type(resource)).kind


def number_of(resource: Resource) -> str:
    return str(getattr(resource, kinds.of_model(type(resource)).number_field))


def previous_number_of(resource: Resource) -> str | None:
    previous: str | None = getattr(resource, kinds.of_model(type(resource)).previous_field)
    return previous


def canonical_members(members: list[Member]) -> dict[str, dict[str, Any]]:
    return {m.extension: {"button": m.button, "ring_delay": m.ring_delay} for m in members}


def canonical_fields(resource: Resource) -> Fields:
    """The managed fields of a declared resource, in canonical form."""
    written = resource.model_fields_set
    values = resource.__dict__  # pydantic keeps field values here
    fields: Fields = {}
    # In the order the portal's form lists them (the model's order): name first.
    for name in _MANAGEABLE[type(resource)]:
        if name not in written and name not in _ALWAYS_MANAGED:
            continue
        value = values[name]
        if name == "members":
            value = canonical_members(value)
        elif name == "devices":
            value = in_portal_order(value)
        elif isinstance(value, list):
            value = list(value)
        fields[name] = value
    return fields
