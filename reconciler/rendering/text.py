"""The plan as a reviewer reads it in a terminal or a CI log.

One line per change, grouped by site, in the order they will be applied, each
naming the YAML that asks for it; updates list old -> new per field:

    + create user 0997: name "0997", package "Empty User Pack"  # sites/Main/users.yaml:4
    ~ update shared_line 555  # sites/Main/shared-lines.yaml:3
        direct_dial_number: "024801027" -> "024801028"
    - delete hot_desk_user 0901  # no longer in the config

Colour is used only when the output is a terminal. Each line is made printable
(control and bidirectional characters escaped) before it is coloured, so a value
from the tenant never reaches the terminal raw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import click

from reconciler.plans import Action
from reconciler.plans.safety import is_emptied_site
from reconciler.rendering.values import (
    BOUGHT,
    bought_lines,
    compared_lines,
    create_values,
    detail_lines,
    show,
    summary,
    title,
)
from reconciler.rendering.view import ChangeView, PlanView
from schema.printable import printable

_SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.RENUMBER: "~", Action.DELETE: "-"}
_COLOURS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta"}


def render(plan: PlanView) -> str:
    paint = _painter(plan.colour)
    lines = [_plain(f"Tenant {show(plan.tenant)} at {plan.tenant_description}")]
    # A site emptied (renamed, deleted, everyone moved out) is said before any change.
    lines += [paint("-", f"! {reason}") for reason in plan.needs_force
              if is_emptied_site(reason)]
    lines += compared_lines(plan)
    if plan.sites or plan.excluded_sites:
        lines.append(_plain(_filters(plan)))
    lines.append("")
    if plan.bought:
        lines += [BOUGHT, *(paint("+", f"  + {line}") for line in bought_lines(plan)), ""]
    by_site: dict[str, list[ChangeView]] = defaultdict(list)
    for change in plan.changes:
        by_site[change.key.site].append(change)
    for site in sorted(by_site):
        lines.append(_plain(f"Site {site}"))
        for change in by_site[site]:
            lines.extend(_change_lines(change, paint))
        lines.append("")
    if plan.unmanaged or plan.ignored:
        lines.append(_LEFT_ALONE_IN_VIEW if plan.compared is not None else
                     "Left alone (not managed by this tool; `prune: true` on the site deletes):")
        lines.extend(_plain(f"  {key.site}: {key}") for key in plan.unmanaged)
        lines.extend(_plain(f"  {key.site}: {key}  # ignored") for key in plan.ignored)
        lines.append("")
    for reason in plan.needs_force:
        lines.append(paint("-", f"! apply needs --force: {reason}"))
    if plan.needs_force:
        lines.append("")
    if plan.is_empty:
        lines.append("No changes. The tenant matches the configuration.")
    else:
        lines.append(summary(plan))
        lines.extend(_site_kind_counts(plan))
    return "\n".join(lines) + "\n"


#: A read-only view (the List Download) cannot tell what this tool made: a row git
#: never declared was made in the portal.
_LEFT_ALONE_IN_VIEW = ("In the portal, not in git (declare it, ignore it, or delete it: "
                       "`prune: true` on its site deletes):")


def _plain(text: str) -> str:
    """An unpainted line: printable, like every painted one."""
    return printable(text)


Paint = Callable[[str, str], str]


def _painter(colour: bool) -> Paint:
    def paint(sign: str, text: str) -> str:
        return click.style(printable(text), fg=_COLOURS[sign]) if colour else printable(text)

    return paint


def _filters(plan: PlanView) -> str:
    parts = []
    if plan.sites:
        parts.append("sites " + ", ".join(plan.sites))
    if plan.excluded_sites:
        parts.append("excluding " + ", ".join(plan.excluded_sites))
    return "Limited to " + "; ".join(parts)


def _sign(change: ChangeView) -> str:
    return "-/+" if change.replace_pair is not None else _SIGNS[change.action]


def _change_lines(change: ChangeView, paint: Paint) -> list[str]:
    sign = _sign(change)
    head = f"  {sign} {title(change)}"
    if change.action is Action.CREATE:
        values = create_values(change)
        head += f": {', '.join(values)}" if values else ""
    head += _provenance(change)
    details = detail_lines(change)
    if change.note and change.replace_pair is None and change.action is not Action.DELETE:
        head += f"  ({change.note})"
    return [paint(sign, head), *(_plain(f"      {line}") for line in details)]


def _provenance(change: ChangeView) -> str:
    """Where the change comes from: the YAML line asking for it, or for a delete the
    reason the tenant's resource goes."""
    if change.origin is not None:
        return f"  # {change.origin.path}:{change.origin.line}"
    if change.action is Action.DELETE and change.replace_pair is None:
        return "  # " + (change.note or "no longer in the config")
    return ""


def _site_kind_counts(plan: PlanView) -> list[str]:
    lines = []
    for (site, kind), counts in plan.counts_by_site_and_kind().items():
        parts = ", ".join(f"{n} to {label}" for label, n in sorted(counts.items()))
        lines.append(_plain(f"  {site} {kind}: {parts}"))
    return lines
