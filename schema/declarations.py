"""The desired state as written: each resource with the place it was declared."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Protocol, TypeVar

from schema.canonical import canonical_fields, kind_of, number_of, previous_number_of
from schema.fields import DEFAULT_SECRET_PREFIX, SecretRef
from schema.locations import Location
from schema.problems import Problem
from schema.resources import Resource
from schema.settings import Safety, SiteSettings, TenantSettings
from schema.state import Fields, Kind, ResourceKey

Path = tuple[str | int, ...]
T = TypeVar("T")


class SourceMap(Protocol):
    """Finds where a value below some YAML node was written."""

    def locate(self, path: Path = ()) -> Location: ...


@dataclass(frozen=True, slots=True)
class Declared:
    """A resource from the config, with its site and the YAML it came from.

    `key` is worked out once: rules look it up hundreds of thousands of times on a
    large tenant (BENCHMARKS.md)."""

    site: str
    resource: Resource
    source: SourceMap
    key: ResourceKey = field(init=False)
    _fields: Fields | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = ResourceKey(self.site, kind_of(self.resource), number_of(self.resource))
        object.__setattr__(self, "key", key)

    @classmethod
    def restored(cls, resource: Resource, source: SourceMap, key: ResourceKey,
                 fields: Fields) -> Declared:
        """One loaded before (the site file cache), its key and canonical fields already
        known: working the key out again costs a third of a second per 100,000."""
        restored = object.__new__(cls)
        set_slot = object.__setattr__
        set_slot(restored, "site", key.site)
        set_slot(restored, "resource", resource)
        set_slot(restored, "source", source)
        set_slot(restored, "key", key)
        set_slot(restored, "_fields", fields)
        return restored

    @property
    def kind(self) -> Kind:
        return self.key.kind

    @property
    def number(self) -> str:
        return self.key.number

    @property
    def previous_key(self) -> ResourceKey | None:
        previous = previous_number_of(self.resource)
        return None if previous is None else ResourceKey(self.site, self.kind, previous)

    @property
    def password(self) -> SecretRef | None:
        """Where this resource's password comes from (users only), never its value."""
        password: SecretRef | None = self.value("password")
        return password

    def value(self, name: str) -> Any:
        """A field's value, or None where the kind has no such field. Read from the
        model's own dict: getattr on a model lacking the field goes through pydantic's
        __getattr__ and an exception, microseconds each on 100,000 resources."""
        return self.resource.__dict__.get(name)

    def at(self, *path: str | int) -> Location:
        return self.source.locate(path)

    def restricted(self, names: frozenset[str]) -> Declared:
        """The same declaration, managing only the fields in `names` (a read-only view of
        the tenant shows no others: see `schema.visibility`)."""
        kept = Declared(self.site, self.resource, self.source)
        object.__setattr__(kept, "_fields",
                           {k: v for k, v in self.fields().items() if k in names})
        return kept

    def fields(self) -> Fields:
        """The canonical fields, worked out once (the planner asks several times).
        Shared: callers build new dicts from it and never change it."""
        if self._fields is None:
            object.__setattr__(self, "_fields", canonical_fields(self.resource))
        assert self._fields is not None
        return self._fields


@dataclass(frozen=True, slots=True)
class DeclaredSite:
    """A site's own settings (the `site:` mapping), with where they were written."""

    settings: SiteSettings
    source: SourceMap


#: A site without a `site:` mapping (one shared instance: they are frozen). Made from
#: the defaults without validating, so that importing builds no validator.
_NO_SITE_SETTINGS = SiteSettings.model_construct()


@dataclass(slots=True)
class TenantConfig:
    """Everything under sites/: the tenant settings and every declared resource."""

    settings: TenantSettings
    settings_source: SourceMap
    declared: list[Declared] = field(default_factory=list)
    site_settings: dict[str, DeclaredSite] = field(default_factory=dict)
    #: sha256 of every config file's path and bytes: what a saved plan was made from.
    digest: str = ""
    #: Numbers of items that failed their own checks: rules do not report them missing.
    unparsed_numbers: set[str] = field(default_factory=set)
    #: Password variables must start with this (set where apply runs, never in YAML).
    secret_prefix: str = DEFAULT_SECRET_PREFIX
    #: How many site files each site has (sites with files but no resources included).
    files_by_site: dict[str, int] = field(default_factory=dict)
    #: Things worth saying that do not stop anything (an empty site file).
    warnings: list[Problem] = field(default_factory=list)
    #: index()'s answers, and the `declared` list they were worked out from
    _indexes: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)
    _indexes_of: list[Declared] | None = field(default=None, repr=False, compare=False)

    def site(self, name: str) -> SiteSettings:
        declared = self.site_settings.get(name)
        return declared.settings if declared else _NO_SITE_SETTINGS

    def safety(self, site: str) -> Safety:
        return self.site(site).safety or self.settings.safety

    def is_ignored(self, site: str, number: str) -> bool:
        declared = self.site_settings.get(site)
        return declared is not None and any(fnmatchcase(number, pattern)
                                            for pattern in declared.settings.ignore)

    def of_kind(self, *kinds: Kind) -> Iterator[Declared]:
        """The declared resources of these kinds, in declaration order. Each choice of
        kinds is worked out once: a dozen rules ask, over 100,000 resources."""
        return iter(self.index(kinds, lambda: [d for d in self.declared
                                               if d.key.kind in kinds]))

    def index(self, name: Hashable, build: Callable[[], T]) -> T:
        """An index of the declared resources that several rules share, built once for
        the `declared` list it was built from (a projected copy builds its own)."""
        if self._indexes_of is not self.declared:
            self._indexes, self._indexes_of = {}, self.declared
        if name not in self._indexes:
            self._indexes[name] = build()
        found: T = self._indexes[name]
        return found

    def sites(self) -> list[str]:
        """Sites with at least one file (an emptied site is still a site)."""
        return sorted({d.site for d in self.declared} | set(self.files_by_site))
