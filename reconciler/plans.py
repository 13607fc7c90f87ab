"""The plan: the smallest ordered list of changes that takes the tenant to the config.

Order matters because the tenant checks every step (numbers are unique, members
must exist, seats and licences are counted). The phases below keep every
intermediate state valid:

    0. release unique values moving to another  (a direct dial number, portal ID,
       resource that stays                        AAD ID or MAC is held by one at a time)
    1. delete shared lines that are gone        (frees numbers and licences)
    2. detach members whose user is leaving     (a user with memberships cannot go)
    3. delete users and hot desk users          (frees numbers and seats)
    4. update, then create, users               (a member must exist before it joins)
    5. create, then update, shared lines        (members now exist)

Within a phase changes are sorted by (site, kind, number), so the same inputs
always give the same plan, byte for byte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from reconciler.diffs import DiffItem, Operation, diff_fields
from reconciler.errors import ConfigError
from schema import rulebook
from schema.canonical import UNIQUE_FIELDS
from schema.declarations import Declared, TenantConfig
from schema.fields import SecretRef
from schema.locations import Location
from schema.resources import HotDeskUser, User
from schema.rules.live import check_against_live
from schema.state import Fields, Kind, ResourceKey, TenantState


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan; applying it is one atomic write to the tenant.

    `fields` holds the values to write: every managed field for a create, only
    the changed ones for an update, nothing for a delete. A password is never a
    value here, only the reference it will be read from at apply time.
    """

    action: Action
    key: ResourceKey
    fields: Fields = field(default_factory=dict)
    diffs: tuple[DiffItem, ...] = ()
    password: SecretRef | None = None
    origin: Location | None = None
    note: str = ""
    #: For the two halves of a replace (a delete and a create of the same number),
    #: the key of the other half.
    replace_pair: ResourceKey | None = None

    @property
    def label(self) -> str:
        """What a reviewer counts it as: a replace's two steps are one replace."""
        return "replace" if self.replace_pair is not None else self.action.value


LABELS = ("create", "update", "replace", "delete")


@dataclass(frozen=True, slots=True)
class Plan:
    tenant: str
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def counts(self) -> Counter[str]:
        """Changes per label; a replace counts once, on its delete step."""
        return Counter(change.label for change in self.changes
                       if not (change.replace_pair and change.action is Action.CREATE))


def build_plan(config: TenantConfig, live: TenantState) -> Plan:
    """Plan the changes; raise ConfigError if the config cannot apply to this tenant."""
    problems = check_against_live(config, live)
    if problems:
        raise ConfigError(problems)
    desired = {declared.key: declared for declared in config.declared}
    creates = [_create(d) for key, d in desired.items() if key not in live.resources]
    deletes = [Change(Action.DELETE, key) for key in live.resources if key not in desired]
    updates = [
        change
        for key, declared in desired.items()
        if key in live.resources
        for change in _update(declared, live.resources[key])
    ]
    creates, deletes = _pair_replacements(creates, deletes)
    departing = {c.key.number for c in deletes if c.key.kind.is_user}
    arriving = {c.key.number for c in creates if c.key.kind.is_user}
    line_deletes = [c for c in deletes if c.key.kind is Kind.SHARED_LINE]
    user_deletes = [c for c in deletes if c.key.kind.is_user]
    releases, claimants = _releases([*creates, *updates], live, {c.key for c in deletes})
    detaches, line_updates = _split_line_updates(
        [c for c in updates if c.key.kind is Kind.SHARED_LINE], live, desired, departing,
        arriving, claimants,
    )
    user_updates = [c for c in updates if c.key.kind.is_user]
    ordered = [
        *_sorted(releases),
        *_sorted(line_deletes),
        *_sorted(detaches),
        *_sorted(user_deletes),
        *_in_seat_order(_sorted(user_updates), live, config.settings.packages),
        *_sorted(c for c in creates if c.key.kind.is_user),
        *_sorted(c for c in creates if c.key.kind is Kind.SHARED_LINE),
        *_sorted(line_updates),
    ]
    return Plan(config.settings.tenant, tuple(ordered))


def _pair_replacements(creates: list[Change], deletes: list[Change]
                       ) -> tuple[list[Change], list[Change]]:
    """Mark a delete and a create of the same user number as one replace.

    The portal cannot change a user's type (hard phone vs hot desk) or move it to
    another site in place: it is deleted and created again, and its call
    recordings go with it. The plan says so.
    """
    created = {c.key.number: c for c in creates if c.key.kind.is_user}
    paired: dict[ResourceKey, ResourceKey] = {}
    for delete in deletes:
        create = created.get(delete.key.number)
        if delete.key.kind.is_user and create is not None:
            paired[delete.key] = create.key
            paired[create.key] = delete.key

    def mark(change: Change) -> Change:
        other = paired.get(change.key)
        if other is None:
            return change
        what = "type" if other.kind is not change.key.kind else "site"
        return replace(change, replace_pair=other, note=(
            f"a user's {what} cannot change in place [{rulebook.KIND_CHANGE.id}]; "
            "download its call recordings before applying"))

    return [mark(c) for c in creates], [mark(c) for c in deletes]


def _sorted(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: c.key)


def _password(declared: Declared) -> SecretRef | None:
    resource = declared.resource
    return resource.password if isinstance(resource, User | HotDeskUser) else None


def _create(declared: Declared) -> Change:
    return Change(Action.CREATE, declared.key, declared.fields(), password=_password(declared),
                  origin=declared.at())


def _update(declared: Declared, live: Fields) -> Iterator[Change]:
    desired = declared.fields()
    diffs = diff_fields(live, desired)
    if diffs:
        changed = {item.path[0] for item in diffs}
        yield Change(Action.UPDATE, declared.key,
                     {name: desired[name] for name in sorted(changed)},
                     diffs, origin=declared.at())


def _releases(claims: list[Change], live: TenantState, deleted: set[ResourceKey]
              ) -> tuple[list[Change], set[ResourceKey]]:
    """Steps that free unique values another resource takes, and who takes them.

    When a direct dial number (or portal ID, AAD ID, MAC) moves from one resource
    to another that both stay, the holder must let go first; for a swap, each
    must let go before either takes. So every holder that stays gets a release
    step (the field cleared) before anything else, and sets its own new value in
    its normal update later. A holder being deleted needs none: deletes come
    before the claims. Returns the release steps and the keys of claimants.
    """
    held = {(name, fields[name]): key for key, fields in live.resources.items()
            for name in UNIQUE_FIELDS if fields.get(name) is not None}
    released: dict[ResourceKey, dict[str, str]] = {}
    claimants: set[ResourceKey] = set()
    for claim in claims:
        for name in UNIQUE_FIELDS:
            holder = held.get((name, claim.fields.get(name)))
            if holder is None or holder == claim.key:
                continue
            claimants.add(claim.key)
            if holder not in deleted:
                released.setdefault(holder, {})[name] = f"{claim.key}"
    steps = [
        Change(
            Action.UPDATE, holder, dict.fromkeys(sorted(fields)),
            tuple(DiffItem(Operation.CHANGE, (name,), live.resources[holder][name], None)
                  for name in sorted(fields)),
            note="releases " + ", ".join(f"{name} for {to}" for name, to in sorted(fields.items())),
        )
        for holder, fields in released.items()
    ]
    return steps, claimants


def _split_line_updates(
    updates: list[Change], live: TenantState, desired: dict[ResourceKey, Declared],
    departing: set[str], arriving: set[str], claimants: set[ResourceKey],
) -> tuple[list[Change], list[Change]]:
    """Shared-line changes that must happen before users leave, and those after.

    A shared line holding a member whose user is deleted (or replaced) must drop
    that member first. If its new member list needs no user that is still to
    be created, and it takes no value another resource holds now, its whole
    update runs early; otherwise it is split into an early detach and a late
    update.
    """
    early: list[Change] = []
    late = {change.key: change for change in updates}
    for key, fields in live.resources.items():
        if key.kind is not Kind.SHARED_LINE or key not in desired:
            continue
        leaving = departing & set(fields["members"])
        if not leaving:
            continue
        wanted = desired[key].fields()["members"]
        if not arriving & set(wanted) and key not in claimants:
            early.append(late.pop(key))
            continue
        kept = {ext: m for ext, m in fields["members"].items() if ext not in leaving}
        early.append(Change(
            Action.UPDATE, key, {"members": kept},
            tuple(DiffItem(Operation.REMOVE, ("members", ext), fields["members"][ext], None)
                  for ext in sorted(leaving)),
            origin=desired[key].at(),
            note="members leave before their user is deleted",
        ))
        late.pop(key, None)
        late_update = list(_update(desired[key], {**fields, "members": kept}))
        late.update((c.key, c) for c in late_update)
    return early, list(late.values())


def _in_seat_order(updates: list[Change], live: TenantState,
                   packages: dict[str, int]) -> list[Change]:
    """Order package moves so that each lands on a seat that is free at that moment.

    A user moving to a full package must wait for another to move off it. Moves
    that can never be ordered (a cycle on full packages) keep their sorted order
    and the tenant reports the missing seat when applied.
    """
    moves = [c for c in updates if "package" in c.fields]
    if not moves:
        return updates
    used = Counter(fields.get("package") for key, fields in live.resources.items()
                   if key.kind.is_user)
    ordered = [c for c in updates if "package" not in c.fields]
    while moves:
        ready = next((c for c in moves if _has_seat(c, used, packages)), moves[0])
        moves.remove(ready)
        ordered.append(ready)
        used[live.resources[ready.key].get("package")] -= 1
        used[ready.fields["package"]] += 1
    return ordered


def _has_seat(change: Change, used: Counter[str | None], packages: dict[str, int]) -> bool:
    package = change.fields.get("package")
    return package is None or used[package] < packages.get(package, 0)
