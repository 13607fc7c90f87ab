"""What every renderer reads: the plan document (the saved-plan JSON), typed for reading.

After Terraform, whose human renderer reads the JSON plan: every format is made
from the one document `plan --out` saves, so a saved plan renders exactly as the
fresh one did (`reconcile show`), and a new format gets the golden-file and
no-secret tests by being registered in `rendering.RENDERERS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.plans import Action
from reconciler.plans.diffs import DiffItem, Operation
from schema.state import Kind, ResourceKey


@dataclass(frozen=True, slots=True)
class Source:
    """Where a password will be read from: only its name, never a value."""

    name: str

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Origin:
    """The YAML asking for a change (`file:line:col` in the document)."""

    path: str
    line: int


@dataclass(frozen=True, slots=True)
class ChangeView:
    data: Mapping[str, Any]

    @property
    def action(self) -> Action:
        return Action(self.data["action"])

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.data["site"], Kind(self.data["kind"]), self.data["number"])

    @property
    def fields(self) -> Mapping[str, Any]:
        fields: Mapping[str, Any] = self.data["fields"]
        return fields

    @property
    def diffs(self) -> tuple[DiffItem, ...]:
        return tuple(DiffItem(Operation(d["op"]), tuple(d["path"]), d["old"], d["new"])
                     for d in self.data["diffs"])

    @property
    def password(self) -> Source | None:
        source = self.data.get("password_from")
        return Source(source) if source else None

    @property
    def origin(self) -> Origin | None:
        origin = self.data.get("origin")
        if not origin:
            return None
        path, line, _ = origin.rsplit(":", 2)
        return Origin(path, int(line))

    @property
    def note(self) -> str:
        return str(self.data.get("note") or "")

    @property
    def reason_args(self) -> dict[str, str]:
        return dict(self.data.get("reason_args") or {})

    @property
    def replace_pair(self) -> ResourceKey | None:
        other = self.data.get("replaces")
        return ResourceKey(other["site"], Kind(other["kind"]), other["number"]) if other else None

    @property
    def adopt(self) -> bool:
        return bool(self.data.get("adopt"))

    @property
    def label(self) -> str:
        return str(self.data["label"])

    @property
    def counted(self) -> bool:
        """False for the second half of a replace, so a replace counts once."""
        return not (self.replace_pair is not None and self.action is Action.CREATE)


@dataclass(frozen=True)
class PlanView:
    """A plan document to render, where it is from, and whether colour is wanted."""

    document: Mapping[str, Any]
    tenant_description: str
    colour: bool = False
    changes: tuple[ChangeView, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes",
                           tuple(ChangeView(c) for c in self.document["changes"]))

    @property
    def tenant(self) -> str:
        return str(self.document["tenant"])

    @property
    def checksum(self) -> str:
        return str(self.document["checksum"])

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(self.document["sites"])

    @property
    def excluded_sites(self) -> tuple[str, ...]:
        return tuple(self.document["excluded_sites"])

    @property
    def needs_force(self) -> tuple[str, ...]:
        return tuple(self.document["needs_force"])

    @property
    def unmanaged(self) -> tuple[ResourceKey, ...]:
        return _keys(self.document.get("unmanaged", ()))

    @property
    def ignored(self) -> tuple[ResourceKey, ...]:
        return _keys(self.document.get("ignored", ()))

    @property
    def bought(self) -> tuple[Mapping[str, Any], ...]:
        """The facts tenant.yaml says were bought ({fact, old, new}), recorded by the apply
        before its first step; none in a plan saved by an earlier version."""
        purchase = self.document.get("purchase")
        return tuple(purchase["changes"]) if purchase else ()

    @property
    def is_empty(self) -> bool:
        return not self.changes and not self.bought

    @property
    def compared(self) -> Mapping[str, Any] | None:
        """What a read-only view of the tenant showed (None: everything was compared)."""
        compared: Mapping[str, Any] | None = self.document.get("compared")
        return compared

    def counts(self) -> Counter[str]:
        """Changes per label; a replace counts once."""
        return Counter(change.label for change in self.changes if change.counted)

    @cached_property
    def _by_site_and_kind(self) -> dict[tuple[str, str], Counter[str]]:
        table: dict[tuple[str, str], Counter[str]] = {}
        for change in self.changes:
            if change.counted:
                row = table.setdefault((change.key.site, change.key.kind.value), Counter())
                row[change.label] += 1
        return dict(sorted(table.items()))

    def counts_by_site_and_kind(self) -> dict[tuple[str, str], Counter[str]]:
        """Changes per label for each (site, kind), sorted: for summary tables."""
        return self._by_site_and_kind


def _keys(items: Any) -> tuple[ResourceKey, ...]:
    return tuple(ResourceKey(k["site"], Kind(k["kind"]), k["number"]) for k in items)
