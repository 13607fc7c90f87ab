"""Plan-time rules on renumbers: each error says what is in the way and what to write.

The renumbering itself is worked out in `schema.renumbering`; these rules turn what
could not be placed into messages whose advice, followed, gives what was asked.
"""

from __future__ import annotations

from collections.abc import Iterator

from schema import rulebook
from schema.declarations import Declared, TenantConfig
from schema.kinds import describe
from schema.problems import Problem
from schema.renumbering import Renumbering
from schema.state import ResourceKey


def problems(config: TenantConfig, renumbering: Renumbering) -> Iterator[Problem]:
    for declared, holder in renumbering.blocked:
        yield _blocked(config, declared, holder)
    for declared in renumbering.unknown:
        yield _unknown(config, declared)
    for declared, source in renumbering.untouchable:
        yield _untouchable(config, declared, source)


def _field(declared: Declared) -> str:
    return describe(declared.kind).previous_field


def _blocked(config: TenantConfig, declared: Declared, holder: ResourceKey) -> Problem:
    previous = declared.previous_key
    assert previous is not None
    if config.is_ignored(holder.site, holder.number):
        why = (f"{holder} is there and site {holder.site} ignores it (site.ignore); take "
               f"{holder.number} out of the ignore list, or choose a free number")
    else:
        why = (f"{holder} is there and was made by hand (this tool does not manage it); "
               f"delete it in the portal, or set prune: true on site {holder.site} so this "
               "tool deletes it first, or choose a free number")
    return Problem(rulebook.RENUMBER_TARGET_EXISTS.id,
                   f"{declared.kind.value} {previous.number} cannot be renumbered to "
                   f"{declared.number}: {why}", declared.at(_field(declared)))


def _unknown(config: TenantConfig, declared: Declared) -> Problem:
    previous = declared.previous_key
    assert previous is not None
    field = _field(declared)
    kept = [d for d in config.declared if d.number == previous.number and d is not declared]
    where = (f"; {previous.number} is {kept[0].key} in site {kept[0].site}, which the config "
             "keeps" if kept else "")
    return Problem(
        rulebook.RENUMBER_PREVIOUS_UNKNOWN.id,
        f"{field} {previous.number} matches no {declared.kind.value} in site {declared.site}, "
        f"and {declared.key} does not exist either{where}; if {declared.number} is new, "
        f"remove {field}; otherwise write the number it has now",
        declared.at(field))


def _untouchable(config: TenantConfig, declared: Declared, source: ResourceKey) -> Problem:
    field = _field(declared)
    if config.is_ignored(source.site, source.number):
        why = (f"site {source.site} ignores it (site.ignore); take {source.number} out of "
               "the ignore list first")
    else:
        where = "" if source.site == declared.site else f" in site {source.site}"
        why = (f"it was made by hand and this tool does not manage it; adopt it first: "
               f"declare {source.kind.value} {source.number}{where} as it is (without "
               f"{field}), apply, then renumber it")
    return Problem(rulebook.RENUMBER_UNMANAGED.id,
                   f"{source}{'' if source.site == declared.site else ' in site ' + source.site}"
                   f" cannot be renumbered to {declared.number}: {why}",
                   declared.at(field))
