"""The resource kinds, each described once; every table about kinds is derived from here.

Follows octoDNS's `Record.register_type`: a kind registers one description (its
model, YAML list, number fields, words, capabilities, portal form and storage),
and the loader, planner, renderers and providers look kinds up here instead of
branching on them. A fourth kind is one more `register(...)` plus its model and
its storage (see ARCHITECTURE.md for the files it touches).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from pydantic import BaseModel

from schema.resources import HotDeskUser, SharedLine, User
from schema.state import Kind


@dataclass(frozen=True, slots=True)
class KindDescription:
    kind: Kind
    model: type[BaseModel]
    #: the YAML list of a site file holding them
    list_name: str
    #: the field holding the number, and the one naming the number it had before
    number_field: str
    previous_field: str
    #: how messages and plans name one, and several
    singular: str
    plural: str
    #: joins shared lines as a member (and so lives in the members' numbering)
    can_be_member: bool
    #: holds members
    has_members: bool
    #: uses a seat of a package, and a shared-line licence
    takes_seat: bool
    takes_licence: bool
    #: deleting one always needs --force (it carries other people's calls)
    delete_needs_force: bool
    #: the portal: where it is set up, and its form's fields in the form's order, each
    #: (field, label); besides model fields: number, site, password, user_type,
    #: hot_desk_device (fixed "HotDesk User")
    portal_menu: str
    portal_form: tuple[tuple[str, str], ...]
    #: where the embedded tenant keeps them
    table: str

    @property
    def number_label(self) -> str:
        return dict(self.portal_form)["number"]

    def label(self, field: str) -> str:
        return dict(self.portal_form).get(field, field)


KINDS: dict[Kind, KindDescription] = {}
_BY_MODEL: dict[type[BaseModel], KindDescription] = {}


def register(description: KindDescription) -> KindDescription:
    KINDS[description.kind] = description
    _BY_MODEL[description.model] = description
    return description


def describe(kind: Kind) -> KindDescription:
    return KINDS[kind]


def of_model(model: type[BaseModel]) -> KindDescription:
    """The description of a model's kind; a model nobody registered is a bug, not a
    shared line."""
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise TypeError(f"{model.__name__} is not a registered resource kind") from None


def by_list_name() -> dict[str, KindDescription]:
    return {d.list_name: d for d in KINDS.values()}


def can_be_member(kind: Kind) -> bool:
    return kind in _MEMBER_KINDS


def has_members(kind: Kind) -> bool:
    return kind in _KINDS_WITH_MEMBERS


def takes_seat(kind: Kind) -> bool:
    return KINDS[kind].takes_seat


def takes_licence(kind: Kind) -> bool:
    return KINDS[kind].takes_licence


def missing_descriptions() -> list[str]:
    """Kinds without a complete description: for the test that keeps the registry whole."""
    gaps = [f"{kind.value}: not registered" for kind in Kind if kind not in KINDS]
    for kind, description in KINDS.items():
        gaps += [f"{kind.value}: {f.name} is empty" for f in fields(description)
                 if getattr(description, f.name) in ("", None)]
        model_fields = description.model.model_fields
        gaps += [f"{kind.value}: the model has no {name}" for name in
                 (description.number_field, description.previous_field)
                 if name not in model_fields]
    return gaps


_USER_SETUP = "Customer Manager Portal > User > User Setup"
# User Setup's form as the announcement page shows it (every field starred), then the
# device section; a hot desk user's device is the fixed "HotDesk User".
_USER_FORM = (
    ("number", "Extension"), ("name", "Name"), ("site", "Site"),
    ("group_member_type", "Group Member Type"), ("portal_id", "Portal ID"),
    ("password", "Password and Confirm password"), ("email", "E-mail"), ("aad_id", "AAD ID"),
    ("package", "Package"), ("user_type", "User Type"),
    ("direct_dial_number", "Direct Dial Call Number"), ("call_barring", "Call Barring"),
    ("outgoing_caller_id", "Outgoing Caller ID"))

register(KindDescription(
    Kind.USER, User, "users", "extension", "previous_extension", "user", "users",
    can_be_member=True, has_members=False, takes_seat=True, takes_licence=False,
    delete_needs_force=False, portal_menu=_USER_SETUP,
    portal_form=(*_USER_FORM, ("devices", "Device"), ("mac", "MAC Address")),
    table="users"))
register(KindDescription(
    Kind.HOT_DESK_USER, HotDeskUser, "hot_desk_users", "extension", "previous_extension",
    "hot desk user", "hot desk users", can_be_member=True, has_members=False,
    takes_seat=True, takes_licence=False, delete_needs_force=True, portal_menu=_USER_SETUP,
    portal_form=(*_USER_FORM, ("hot_desk_device", "Device")), table="users"))
register(KindDescription(
    Kind.SHARED_LINE, SharedLine, "shared_lines", "number", "previous_number", "shared line",
    "shared lines", can_be_member=False, has_members=True, takes_seat=False,
    takes_licence=True, delete_needs_force=True,
    portal_menu="Customer Manager Portal > Call Manager > Shared Line",
    portal_form=(("site", "Site"), ("number", "Digit Number"),
                 ("forward_to_vm", "Forward to VM"), ("autodial_digit", "AutoDial Digit"),
                 ("direct_dial_number", "Direct Dial Call Number"),
                 ("description", "Description"), ("members", "Member")),
    table="shared_lines"))

_MEMBER_KINDS = frozenset(k for k, d in KINDS.items() if d.can_be_member)
_KINDS_WITH_MEMBERS = frozenset(k for k, d in KINDS.items() if d.has_members)
