"""The plan as numbered steps to carry out by hand in the Customer Manager Portal.

iPECS Cloud has no public provisioning API (FACTS.md section 11), so for many
tenants the portal is the only way in. Menu paths and field labels are the
portal's own, as the announcement page and vendor notes show them. A create
lists every field of the portal's form, in the form's order (the page marks
them all as needed to save), saying which to leave as the portal suggests. A
step no public source confirms the portal allows (changing an existing
Extension or Digit Number) is marked as unverified, with what to do instead.
"""

from __future__ import annotations

from typing import Any, assert_never

from reconciler.plans import Action
from reconciler.plans.diffs import Operation
from reconciler.rendering.values import bought_lines, compared_lines
from reconciler.rendering.view import ChangeView, PlanView
from schema import devices
from schema.kinds import describe
from schema.printable import printable

# Fields that are not on a form, and how a step names them.
_OFF_FORM_LABELS = {"password_rotation": "Password (set again)"}
_GROUP_MEMBER_TYPES = {"single_site": "Single site group members",
                       "multi_site": "Multi site group members"}
_UNVERIFIED_RENUMBER = (
    "   (unverified: no public page says the portal lets you change the {field} of an "
    "existing {noun}. If it does not, stop here: this renumber has to be a delete and a "
    "create instead, which loses the {noun}'s call recordings; plan again after deciding.)")


def render(plan: PlanView) -> str:
    lines = [f"# Runbook for tenant \"{plan.tenant}\"", ""]
    if plan.compared is not None:
        lines += [*compared_lines(plan), ""]
    if plan.sites or plan.excluded_sites:
        limited = ", ".join(plan.sites) if plan.sites else "all sites"
        excluded = f", except {', '.join(plan.excluded_sites)}" if plan.excluded_sites else ""
        lines += [f"Limited to {limited}{excluded}: changes in other sites are not in this "
                  "runbook.", ""]
    if plan.is_empty:
        lines += ["Nothing to do: the tenant matches the configuration.", ""]
    else:
        lines += ["Carry out these steps in order; each is one change of the plan. Stop at "
                  "the first the portal refuses, and plan again.", ""]
        if plan.bought:
            lines += ["Before step 1: tenant.yaml says these were bought; check the portal "
                      "shows them (Licence menu) before going on:",
                      *(f"   - {line}" for line in bought_lines(plan)), ""]
        for step, change in enumerate(plan.changes, start=1):
            lines += [*_step(step, change), ""]
    lines.append(f"Plan checksum: {plan.checksum}")
    return "\n".join(lines) + "\n"


def _step(step: int, change: ChangeView) -> list[str]:
    key = change.key
    kind = describe(key.kind)
    what = f"{kind.singular} {key.number} (site {key.site})"
    menu = kind.portal_menu
    match change.action:
        case Action.CREATE:
            return [f"{step}. Create {what}", f"   Menu: {menu} > Add",
                    *_create_fields(change), "   Save."]
        case Action.DELETE:
            warning = [f"   Warning: {change.note}."] if change.replace_pair is not None else []
            return [f"{step}. Delete {what}", *warning,
                    f"   Menu: {menu}: tick {key.number}, then Delete, and confirm."]
        case Action.RENUMBER:
            field, new = kind.number_label, change.fields["number"]
            return [f"{step}. Renumber {what} to {new}",
                    f"   Menu: {menu}: select {key.number}, Modify.",
                    f"   - {field}: change {key.number} to {new}",
                    _UNVERIFIED_RENUMBER.format(field=field, noun=kind.singular), "   Save."]
        case Action.UPDATE:
            if change.adopt and not change.diffs:
                return [f"{step}. Adopt {what}: nothing to do in the portal (the reconciler "
                        "records that it now manages it)."]
            return [f"{step}. Modify {what}" + (f" ({change.note})" if change.note else ""),
                    f"   Menu: {menu}: select {key.number}, Modify.", *_update_fields(change),
                    "   Save."]
        case _:
            assert_never(change.action)


def _create_fields(change: ChangeView) -> list[str]:
    """Every field of the kind's portal form, in the form's order."""
    key = change.key
    lines = []
    for name, label in describe(key.kind).portal_form:
        if name == "number":
            value = key.number
        elif name == "site":
            value = key.site
        elif name == "password":
            value = (f"the value of {change.password.describe()} (8-15 characters; never "
                     "paste it in a ticket)" if change.password is not None else
                     "choose one of 8-15 characters (this config does not manage it)")
        elif name == "user_type":
            value = _user_type(change)
        elif name == "hot_desk_device":
            value = "HotDesk User"
        elif name == "members":
            members = change.fields.get("members", {})
            lines += [f"   - {label}: add {ext} ({_portal_member(m)})"
                      for ext, m in members.items()]
            continue
        else:
            value = _given(change, name)
        lines.append(f"   - {label}: {value}")
    return lines


def _given(change: ChangeView, name: str) -> str:
    if name not in change.fields:
        return "leave as the portal suggests"
    return _portal_value(name, change.fields[name])


def _user_type(change: ChangeView) -> str:
    """Single Client or Multi Client, as the devices make it (FACTS 2.1, iPECS2Teams)."""
    if "hot_desk_device" in dict(describe(change.key.kind).portal_form):
        return "leave as the portal suggests (the HotDesk User device sets it)"
    found = change.fields.get("devices", [])
    multi = bool(devices.desk_phones(found)) and bool(devices.clients(found))
    return "Multi Client" if multi else "Single Client"


def _update_fields(change: ChangeView) -> list[str]:
    kind = describe(change.key.kind)
    lines = []
    for item in change.diffs:
        name = item.path[0]
        if name == "members":
            ext = item.path[1]
            if item.operation is Operation.ADD:
                lines.append(f"   - Member: add {ext} ({_portal_member(item.new)})")
            elif item.operation is Operation.REMOVE:
                lines.append(f"   - Member: remove {ext}")
            else:
                lines.append(f"   - Member {ext}: {'.'.join(item.path[2:])} "
                             f"{item.old} -> {item.new} (Ring Option / Button)")
        elif name == "package":
            lines.append(f"   - Package: click Change next to it, from "
                         f"{_portal_value(name, item.old)} to {_portal_value(name, item.new)}")
        else:
            label = _OFF_FORM_LABELS.get(name) or kind.label(name)
            lines.append(f"   - {label}: {_portal_value(name, item.old)} -> "
                         f"{_portal_value(name, item.new)}")
    if change.password is not None:
        lines.append(f"   - Password and Confirm password: the value of "
                     f"{change.password.describe()}")
    return lines


def _portal_member(member: dict[str, Any]) -> str:
    button = "no Button" if member["button"] is None else f"Button {member['button']}"
    return f"{button}, Ring Option {member['ring_delay']} s"


def _portal_value(name: str, value: Any) -> str:
    """A value as the portal shows it; one line, with nothing that could steer a terminal."""
    return printable(_portal_text(name, value))


def _portal_text(name: str, value: Any) -> str:
    if value is None:
        return "(empty)" if name != "direct_dial_number" else "NONE"
    if name == "forward_to_vm":
        return "Used" if value else "Not Used"
    if name == "group_member_type":
        return _GROUP_MEMBER_TYPES.get(str(value), str(value))
    if name == "devices":
        return ",".join(value)
    return str(value)
