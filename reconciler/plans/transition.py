"""The transition from the tenant as it is to the tenant the config wants, worked out once.

Every phase of the plan (`phases.py`) asks this one value its questions, instead
of receiving loose sets: which users depart, which arrive, where a change comes
from in the YAML, which values must be released first, which shared-line
changes run early. Each declared resource is compared with the tenant once.

`after` is the tenant as the later phases see it: renumbered, leavers gone,
and members whose user departs already off their lines (the detach phase does
that), so an update is diffed once, against the state it will really meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from reconciler.plans.changes import Action, Change
from reconciler.plans.comparing import creation, update
from reconciler.plans.diffs import DiffItem, Operation
from reconciler.plans.reasons import ChangeReason
from reconciler.plans.releasing import releases
from reconciler.plans.replacing import pair_replacements
from schema.declarations import Declared, TenantConfig
from schema.kinds import can_be_member, describe, has_members
from schema.locations import Location
from schema.ownership import Leftovers
from schema.renumbering import Renumbering
from schema.state import Fields, ResourceKey, TenantState


@dataclass
class Transition:
    config: TenantConfig
    before: TenantState
    renumbering: Renumbering
    leftovers: Leftovers
    desired: dict[ResourceKey, Declared]
    after: TenantState = field(init=False)
    creates: list[Change] = field(init=False)
    updates: list[Change] = field(init=False)
    deletes: list[Change] = field(init=False)
    #: steps freeing unique values, and the resources that take them
    releases: list[Change] = field(init=False)
    claimants: set[ResourceKey] = field(init=False)

    def _carrying(self, create: Change) -> Change:
        """A move to another site is a delete and a create in the portal: the create
        carries every value the tenant holds that the config does not manage ("omitted
        means leave it alone"), and says which; a password the config does not set
        cannot be carried, and the plan says it must be entered again."""
        old = create.replace_pair
        if old is None or old.kind is not create.key.kind or old.site == create.key.site:
            return create
        held = self.before.resources.get(old, {})
        defaults = {name: info.default
                    for name, info in describe(old.kind).model.model_fields.items()}
        carried = {name: value for name, value in held.items()
                   if name not in create.fields and value not in (None, "", [], {})
                   and value != defaults.get(name)  # a default needs no carrying
                   and name != "password_rotation"}  # the config's counter, not a value
        args = dict(create.reason_args)
        if carried:
            args.update(carried=", ".join(sorted(carried)), from_site=old.site)
        if create.password is None and self.before.password_from.get(old) is not None:
            args["reenter"] = "password"
        if args == dict(create.reason_args):
            return create
        return replace(create, fields={**create.fields, **carried}, reason_args=args)

    def _why_delete(self, key: ResourceKey) -> ChangeReason:
        if key in self.before.managed:
            return ChangeReason.NOT_IN_CONFIG
        if self.before.visibility is not None:  # a List Download: made in the portal
            return ChangeReason.IN_PORTAL_NOT_IN_GIT
        return ChangeReason.PRUNED

    def __post_init__(self) -> None:
        self.after = self._after()
        creates = [creation(d) for key, d in self.desired.items()
                   if key not in self.after.resources]
        deletes = [Change(Action.DELETE, key, reason=self._why_delete(key))
                   for key in self.leftovers.delete]
        creates, self.deletes = pair_replacements(creates, deletes,
                                                  self.renumbering.replaced_by)
        self.creates = [self._carrying(c) for c in creates]
        updates = [change for key, declared in self.desired.items()
                   if key in self.after.resources
                   for change in update(declared, self.after.resources[key],
                                        adopt=key not in self.after.managed,
                                        password_from=self.after.password_from.get(key))]
        steps, self.claimants = releases([*self.creates, *updates], self.after,
                                         self.deleted, self.renumbering)
        # A release is asked for by the holder's own declaration (its value changes).
        self.releases = [replace(step, origin=self.origin_of(step.key)) for step in steps]
        released = {self.renumbering.new_of(c.key): set(c.fields) for c in self.releases}
        self.updates = [_from_released(c, released.get(c.key, set())) for c in updates]

    # --- the questions the phases ask -----------------------------------------
    @cached_property
    def deleted(self) -> set[ResourceKey]:
        return {change.key for change in self.deletes}

    @cached_property
    def departing_users(self) -> set[str]:
        """Numbers of users leaving; each must first leave its shared lines. A leaver
        (whose number another user takes at once) counts too."""
        return {key.number for key in self.deleted | self.renumbering.leavers
                if can_be_member(key.kind)}

    @cached_property
    def arriving_users(self) -> set[str]:
        created = {c.key.number for c in self.creates if can_be_member(c.key.kind)}
        return created | {new.number for new in self.renumbering.moves.values()
                          if can_be_member(new.kind)}

    def origin_of(self, key: ResourceKey) -> Location | None:
        """The YAML declaring a tenant resource (by its key before or after renumbering)."""
        declared = self.desired.get(self.renumbering.new_of(key))
        return declared.at() if declared else None

    @cached_property
    def late_lines(self) -> set[ResourceKey]:
        """Declared shared lines whose update must wait until users are renumbered,
        created or have released values: it cannot run in the detach phase."""
        return self.claimants | set(self.renumbering.moves.values()) | {
            key for key, d in self.desired.items()
            if has_members(key.kind) and self.arriving_users & set(d.fields()["members"])}

    @cached_property
    def line_changes(self) -> tuple[list[Change], list[Change]]:
        """Shared-line changes before users leave (detaches), and those after.

        A line (declared, or left alone) holding a member whose user departs drops
        that member first. A declared line whose whole update can run that early
        does so in one change; otherwise the detach and the update are two."""
        updates = {c.key: c for c in self.updates if has_members(c.key.kind)}
        early: list[Change] = []
        if not self.departing_users:  # nobody leaves: no line to detach from
            return early, list(updates.values())
        for key, fields in sorted(self.before.resources.items()):
            if not has_members(key.kind) or key in self.deleted:
                continue
            leaving = self.departing_users & set(fields.get("members", {}))
            if not leaving:
                continue
            removals = tuple(DiffItem(Operation.REMOVE, ("members", ext),
                                      fields["members"][ext], None) for ext in sorted(leaving))
            now = self.renumbering.new_of(key)
            together = updates.get(now)
            if together is not None and now not in self.late_lines:
                del updates[now]
                members = self.desired[now].fields()["members"]
                early.append(replace(together, fields={**together.fields, "members": members},
                                     diffs=tuple(sorted((*removals, *together.diffs),
                                                        key=lambda d: d.path))))
                continue
            kept = {ext: m for ext, m in fields["members"].items() if ext not in leaving}
            early.append(Change(Action.UPDATE, key, {"members": kept}, removals,
                                origin=self.origin_of(key), reason=ChangeReason.MEMBERS_LEAVE,
                                reason_args={"managed": "yes" if now in self.desired else "no"}))
        return early, list(updates.values())

    # --- how `after` is made ----------------------------------------------------
    def _after(self) -> TenantState:
        """The tenant once leavers are gone, departing members are off their lines and
        every renumber is done (keys and members renamed)."""
        live, renumbering = self.before, self.renumbering
        gone = {key.number for key in {*self.leftovers.delete, *renumbering.leavers}
                if can_be_member(key.kind)}
        if not renumbering.moves and not gone:
            return live
        resources: dict[ResourceKey, Fields] = {}
        for key, fields in live.resources.items():
            if key in renumbering.leavers:
                continue
            if has_members(key.kind):
                members = {ext: m for ext, m in fields["members"].items() if ext not in gone}
                fields = {**fields, "members": renumbering.members_renamed(members)}
            resources[renumbering.new_of(key)] = fields
        new_of = renumbering.new_of
        return TenantState(
            resources, live.facts,
            {new_of(key) for key in live.managed if key not in renumbering.leavers},
            password_from={new_of(key): source for key, source in live.password_from.items()
                           if key not in renumbering.leavers})


def _from_released(change: Change, released: set[str]) -> Change:
    """A value released at the start is empty by the time its holder's own update runs:
    the update shows it from empty, so each value is shown once, with the old value it
    really has then."""
    if not released:
        return change
    return replace(change, diffs=tuple(replace(d, old=None) if d.path[0] in released else d
                                       for d in change.diffs))
