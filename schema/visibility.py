"""What a read-only view of a tenant shows, and the config cut down to it.

The portal's List Download file shows users and hot desk users, and of them only
the columns it has; it shows no shared lines at all. What a view does not show is
*unknown*, not empty: it is never compared, never a change, and the plan header
says what was compared. The planner needs no special case for it: the config is
projected onto what the view shows (unknown kinds and fields dropped, as if never
declared), and the view's state holds only what it shows.
"""

from __future__ import annotations

from dataclasses import replace

from schema import kinds
from schema.declarations import TenantConfig
from schema.state import Kind, TenantState, Visibility


def compared(visibility: Visibility) -> dict[str, object]:
    """For the plan document: what was compared, and what was not."""
    return {
        "source": visibility.source,
        "kinds": [kind.value for kind in Kind if visibility.shows(kind)],
        "fields": {kind.value: _in_form_order(kind, visibility.fields[kind]) for kind in Kind
                   if visibility.shows(kind)},
        "not_compared": {kind.value: _not_shown(kind, visibility.fields.get(kind))
                         for kind in Kind},
    }


def comparable_fields(kind: Kind) -> set[str]:
    """The fields of a kind any tenant could show (not a hot desk user's device, which
    the model keeps only to report it)."""
    return {name for name, info in kinds.describe(kind).model.model_fields.items()
            if not info.exclude} - NOT_COMPARED_ANYWAY


def _in_form_order(kind: Kind, names: set[str] | frozenset[str]) -> list[str]:
    return [name for name in kinds.describe(kind).model.model_fields if name in names]


def _not_shown(kind: Kind, shown: frozenset[str] | None) -> list[str]:
    every = comparable_fields(kind)
    return _in_form_order(kind, every if shown is None else every - shown)


#: Never compared with any tenant: identity and renumbering fields, and the password,
#: which no portal returns.
NOT_COMPARED_ANYWAY = frozenset({"extension", "number", "previous_extension",
                                 "previous_number", "password"})


def projected(config: TenantConfig, visibility: Visibility) -> TenantConfig:
    """The config as far as the view can judge it: resources of kinds it does not show
    are left out, and of the others only the fields it shows are kept."""
    declared = [d.restricted(visibility.fields[d.kind]) for d in config.declared
                if visibility.shows(d.kind)]
    return replace(config, declared=declared)


def owned_as_declared(config: TenantConfig, live: TenantState) -> None:
    """A read-only view carries no marker of what this tool made, so what the config
    declares (or renumbers from) counts as managed, and every other row was made in
    the portal: left alone, never deleted unless its site prunes. (Every row counted
    as managed before: a user made in the portal planned as "no longer in the config",
    and a delete, when it had never been in git.)"""
    declared = {d.key for d in config.declared}
    declared |= {d.previous_key for d in config.declared if d.previous_key is not None}
    live.managed = {key for key in live.resources if key in declared}
