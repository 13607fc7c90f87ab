"""The change one declared resource needs: a create, or an update of what differs."""

from __future__ import annotations

from reconciler.plans.changes import Action, Change
from reconciler.plans.diffs import diff_fields
from schema.declarations import Declared
from schema.devices import desk_phones
from schema.state import UNKNOWN_PASSWORD_SOURCE, Fields


def creation(declared: Declared) -> Change:
    return Change(Action.CREATE, declared.key, declared.fields(), password=declared.password,
                  origin=declared.at())


def update(declared: Declared, live: Fields, adopt: bool = False,
           password_from: str | None = None) -> list[Change]:
    """The update taking a tenant resource to its declared fields, if any differ
    (or if it must be adopted, or its password set).

    The portal never returns a password, so it cannot be compared. The tenant
    records where it was last set from (`password_from`): a password added to a
    user, or read from another variable, is set; a raised `password_rotation` is
    the config's way of asking to set the same one again."""
    desired = _with_mac_cleared(declared.fields(), live)
    diffs = diff_fields(live, desired)
    changed = {item.path[0] for item in diffs}
    ref = declared.password
    set_password = ref is not None and (
        "password_rotation" in changed
        or password_from not in (ref.describe(), UNKNOWN_PASSWORD_SOURCE))
    if not diffs and not adopt and not set_password:
        return []
    return [Change(Action.UPDATE, declared.key, {name: desired[name] for name in sorted(changed)},
                   diffs, password=ref if set_password else None, origin=declared.at(),
                   adopt=adopt)]


def _with_mac_cleared(desired: Fields, live: Fields) -> Fields:
    """A user left with no desk phone has no MAC: clear it in the same change, even when
    the config does not mention `mac` (the portal would keep a MAC for no phone)."""
    if ("devices" in desired and "mac" not in desired and live.get("mac") is not None
            and not desk_phones(desired["devices"])):
        return {**desired, "mac": None}
    return desired
