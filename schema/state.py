"""How a tenant's resources are named and held, the same for config and live state.

A resource is keyed by (site, kind, number) and its managed values are a plain
dict in canonical form (`schema.canonical`). Providers build these dicts straight
from storage, so reading a 100,000-number tenant never builds pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Kind(StrEnum):
    USER = "user"
    HOT_DESK_USER = "hot_desk_user"
    SHARED_LINE = "shared_line"


class ResourceKey(NamedTuple):
    site: str
    kind: Kind
    number: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.number}"


Fields = dict[str, Any]

#: Where a password was set from, when that is not known: some password is set (a
#: tenant migrated from schema 3; a List Download whose Password cell is filled).
UNKNOWN_PASSWORD_SOURCE = "*"


@dataclass(frozen=True, slots=True)
class TenantFacts:
    """What a live tenant reports about itself; compared with sites/tenant.yaml."""

    platform_version: str
    shared_line_licences: int
    shared_licensing: bool
    packages: dict[str, int]


@dataclass(frozen=True, slots=True)
class NewPassword:
    """A password to set, and the reference it was read from. The tenant records the
    reference (so adding a password to an existing user is seen as a change), never
    the value; `repr` never shows it."""

    source: str  # "$RECONCILER_PW_0997"
    value: str = field(repr=False)
    #: its stored form, when worked out ahead of the step (`password_prehashing`)
    hashed: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class TenantIdentity:
    """Whose tenant this is, recorded when it was created: a config for another
    tenant is refused before anything is planned (`tenant:` in tenant.yaml)."""

    name: str
    tenant_id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class UnfinishedApply:
    """The journal of an apply that stopped before its last step (killed, say)."""

    plan_checksum: str
    steps_done: int
    total_steps: int
    started_at: str
    started_by: str

    def describe(self) -> str:
        return (f"an apply of plan {self.plan_checksum[:19]}... stopped after "
                f"{self.steps_done} of {self.total_steps} step(s) (started {self.started_at} "
                f"by {self.started_by})")


@dataclass(frozen=True, slots=True)
class Visibility:
    """What a read-only view of a tenant shows: the fields of each kind it holds. A kind
    not in `fields` is not shown at all. What is not shown is unknown, never compared
    (`schema.visibility` cuts the config down to it)."""

    #: where the view is from, for the plan header ("List Download file list.xlsx")
    source: str
    fields: dict[Kind, frozenset[str]]

    def shows(self, kind: Kind) -> bool:
        return kind in self.fields


@dataclass(slots=True)
class TenantState:
    """Every resource of a tenant, as canonical fields, plus its facts if known.

    `managed` holds the keys this tool created or adopted (the tenant's marker,
    like Argo CD's tracking annotation); the rest were made by hand and are left
    alone unless their site opts in to pruning.

    Identity survives renumbering: `renumbered_from` gives, for a resource this
    tool renumbered, the number it had before (so a `previous_extension` already
    carried out is recognised as done), and `parked` the resources an interrupted
    swap left on a temporary number, with the number each is heading for.
    """

    resources: dict[ResourceKey, Fields] = field(default_factory=dict)
    facts: TenantFacts | None = None
    managed: set[ResourceKey] = field(default_factory=set)
    identity: TenantIdentity | None = None
    uids: dict[ResourceKey, str] = field(default_factory=dict)
    renumbered_from: dict[ResourceKey, str] = field(default_factory=dict)
    parked: dict[ResourceKey, str] = field(default_factory=dict)
    unfinished: UnfinishedApply | None = None
    #: where each user's password was last set from (`$VAR`), for users this tool set one
    password_from: dict[ResourceKey, str] = field(default_factory=dict)
    #: for a read-only view (a List Download file): the kinds and fields it shows, as a
    #: `schema.visibility.Visibility`; None: everything is known
    visibility: Visibility | None = None
