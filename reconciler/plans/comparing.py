"""The change one declared resource needs: a create, or an update of what differs."""

from __future__ import annotations

from reconciler.diffs import diff_fields
from reconciler.plans.changes import Action, Change
from schema.declarations import Declared
from schema.state import Fields


def creation(declared: Declared) -> Change:
    return Change(Action.CREATE, declared.key, declared.fields(), password=declared.password,
                  origin=declared.at())


def update(declared: Declared, live: Fields, adopt: bool = False) -> list[Change]:
    """The update taking a tenant resource to its declared fields, if any differ
    (or if it must be adopted).

    The portal never returns a password, so it cannot be compared: a raised
    `password_rotation` is the config's way of asking to set it again."""
    desired = declared.fields()
    diffs = diff_fields(live, desired)
    if not diffs and not adopt:
        return []
    changed = {item.path[0] for item in diffs}
    password = declared.password if "password_rotation" in changed else None
    return [Change(Action.UPDATE, declared.key, {name: desired[name] for name in sorted(changed)},
                   diffs, password=password, origin=declared.at(), adopt=adopt)]
