"""The vocabulary of a plan: one Change per atomic tenant write, and the Plan itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.plans.diffs import DiffItem
from reconciler.plans.reasons import ChangeReason, spell
from schema.fields import SecretRef
from schema.locations import Location
from schema.purchases import Purchase
from schema.state import Fields, ResourceKey, UnfinishedApply, Visibility


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    RENUMBER = "renumber"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan; applying it is one atomic write to the tenant.

    `key` names the resource as it is when the step runs. `fields` holds the
    values to write: every managed field for a create, only the changed ones for
    an update, `{"number": new}` for a renumber, nothing for a delete. A password
    is never a value here, only the reference it will be read from at apply time.
    """

    action: Action
    key: ResourceKey
    fields: Fields = field(default_factory=dict)
    diffs: tuple[DiffItem, ...] = ()
    password: SecretRef | None = None
    #: The YAML that asks for this change (None for a delete: nothing asks for it).
    origin: Location | None = None
    #: why the change is made, when that is more than "the config says so"
    reason: ChangeReason | None = None
    reason_args: Mapping[str, str] = field(default_factory=dict)
    #: For the two halves of a replace (a delete and a create of the same number),
    #: the key of the other half.
    replace_pair: ResourceKey | None = None
    #: Mark the resource as managed by this tool (it was made by hand).
    adopt: bool = False
    #: For a renumber to a temporary number (one half of a swap), the number the
    #: resource is heading for; the tenant's journal keeps it until it arrives.
    heading_for: str | None = None

    @property
    def note(self) -> str:
        """The reason in words (`reasons.spell`)."""
        return spell(self.reason, self.reason_args)

    @property
    def label(self) -> str:
        """What a reviewer counts it as: a replace's two steps are one replace."""
        if self.replace_pair is not None:
            return "replace"
        if self.adopt:
            return "adopt"
        return self.action.value

    @property
    def counted(self) -> bool:
        """False for the second half of a replace, so a replace counts once."""
        return not (self.replace_pair is not None and self.action is Action.CREATE)


LABELS = ("create", "update", "adopt", "renumber", "replace", "delete")


@dataclass(frozen=True, slots=True)
class Plan:
    tenant: str
    changes: tuple[Change, ...]
    #: Tenant resources that are not in the config and are left alone.
    unmanaged: tuple[ResourceKey, ...] = ()
    #: Tenant resources their site ignores (site.ignore): never touched.
    ignored: tuple[ResourceKey, ...] = ()
    #: Why apply needs --force (too much destroyed, or always-guarded deletes).
    needs_force: tuple[str, ...] = ()
    #: The sites this plan was limited to (empty: all), and those left out.
    sites: tuple[str, ...] = ()
    excluded_sites: tuple[str, ...] = ()
    #: An earlier apply that stopped part way; this plan continues its work.
    unfinished: UnfinishedApply | None = None
    #: What a read-only view of the tenant showed (None: everything was compared).
    compared: Visibility | None = None
    #: Seats or licences tenant.yaml says were bought: recorded before the first step.
    purchase: Purchase | None = None

    @property
    def is_empty(self) -> bool:
        return not self.changes and self.purchase is None

    def counts(self) -> Counter[str]:
        """Changes per label; a replace counts once."""
        return Counter(change.label for change in self.changes if change.counted)
