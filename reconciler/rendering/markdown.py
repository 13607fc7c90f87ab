"""The plan as a pull-request comment: a summary table, then the details folded away.

GitHub refuses comments over 65,535 characters; past that the details are cut
at a change boundary and the comment says how many changes are not shown.

Every value a pull request controls (the tenant's name, site folders, resource
names, reasons that quote them) is shown inside code: a code span (`code`) in the
head, the fenced block in the details. Markdown interprets nothing there, so a
name cannot @mention anyone, add HTML, a link, an image or a hidden marker.
"""

from __future__ import annotations

import re
from dataclasses import replace

from reconciler.plans import LABELS
from reconciler.plans.safety import is_emptied_site
from reconciler.rendering import text
from reconciler.rendering.values import BOUGHT, bought_lines, compared_lines, summary
from reconciler.rendering.view import PlanView
from schema.printable import printable

GITHUB_COMMENT_LIMIT = 65_535
_ALWAYS_SHOWN = ("create", "update", "replace", "delete")
_SHOWN_REASONS = 10
_SHOWN_LEFT_ALONE = 20


def render(plan: PlanView, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    head = [f"### iPECS Cloud plan for tenant {code(plan.tenant)}", ""]
    emptied = [reason for reason in plan.needs_force if is_emptied_site(reason)]
    if emptied:  # said before anything else: a rename must read as a rename
        head += [f"> :warning: {code(reason)}  " for reason in emptied] + [""]
    if plan.compared is not None:
        head += [f"> {code(line.strip())}  " for line in compared_lines(plan)] + [""]
    if plan.is_empty:
        head.append("**No changes.** The tenant matches the configuration.")
    elif plan.changes:
        head += [*_table(plan), "", f"**{summary(plan)}**"]
    if plan.bought:
        head += ["", BOUGHT, *(f"- {code(line)}" for line in bought_lines(plan))]
    if plan.needs_force:
        head.append("")
    shown, more = plan.needs_force[:_SHOWN_REASONS], len(plan.needs_force) - _SHOWN_REASONS
    head += [f"> :warning: apply needs `--force`: {code(reason)}  " for reason in shown]
    if more > 0:
        head.append(f"> :warning: ... and {more} more reason(s) to need `--force`, listed in "
                    "the CI log and the saved plan")
    head += _left_alone(plan)
    tail = ["", f"Plan checksum: `{plan.checksum}`", ""]
    if plan.is_empty:
        return "\n".join(head + tail)
    detail = _detail_lines(plan)
    return _fit(head, detail, tail, limit, len(plan.changes))


def _left_alone(plan: PlanView) -> list[str]:
    """Resources the plan leaves alone: counted, the first few named (a tenant made by
    hand can hold thousands; the comment must still fit)."""
    keys = [*(code(f"{k.site}/{k}") for k in plan.unmanaged),
            *(f"{code(f'{k.site}/{k}')} (ignored)" for k in plan.ignored)]
    if not keys:
        return []
    named = ", ".join(keys[:_SHOWN_LEFT_ALONE])
    rest = len(keys) - _SHOWN_LEFT_ALONE
    what = ("In the portal, not in git (declare it, ignore it, or delete it: `prune: true` "
            "on its site)" if plan.compared is not None else "Left alone, not managed by "
            "this tool")
    return ["", f"{what} ({len(keys)}): {named}"
            + (f", and {rest} more" if rest > 0 else "")]


def _table(plan: PlanView) -> list[str]:
    rows = plan.counts_by_site_and_kind()
    # The four a reviewer always looks for, then adoptions and renumbers when present.
    used = [label for label in LABELS if label in _ALWAYS_SHOWN
            or any(counts[label] for counts in rows.values())]
    lines = ["| site | kind | " + " | ".join(used) + " |",
             "|---|---|" + "---:|" * len(used)]
    for (site, kind), counts in rows.items():
        cells = " | ".join(str(counts[label]) for label in used)
        lines.append(f"| {_cell(code(site))} | {kind} | {cells} |")
    return lines


def code(value: str) -> str:
    """`value` as one inline code span: control characters and line breaks escaped
    (a span must stay on its line), fenced by more backticks than it holds in a row,
    spaced where it starts or ends with a backtick (CommonMark strips one space)."""
    text = printable(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.strip() == "" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(value: str) -> str:
    """GitHub splits a table row at every '|' not escaped, even inside code."""
    return value.replace("|", "\\|")


def _detail_lines(plan: PlanView) -> list[str]:
    # Changes start at column 0 so that GitHub's diff highlighting colours + and - lines.
    body = [line.removeprefix("  ")
            for line in text.render(replace(plan, colour=False)).splitlines()]
    # A fence longer than any run of backticks in the plan cannot be closed early.
    longest = max((len(run) for run in re.findall(r"`+", "\n".join(body))), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}diff", *body, fence]


def _fit(head: list[str], detail: list[str], tail: list[str], limit: int,
         changes: int) -> str:
    opening = ["", f"<details><summary>Details: {changes} change(s) in apply order</summary>",
               ""]
    closing = ["", "</details>"]
    full = "\n".join(head + opening + detail + closing + tail)
    if len(full) <= limit:
        return full
    fence = detail[-1]
    kept: list[str] = []
    shown = 0
    notice_room = 200
    budget = limit - len("\n".join(head + opening + closing + tail)) - notice_room
    for line in detail[:-1]:
        if len(line) + 1 > budget:
            break
        budget -= len(line) + 1
        kept.append(line)
        shown += line.lstrip().startswith(("+ ", "~ ", "- ", "-/+ "))
    notice = (f"... truncated: {changes - shown} of {changes} changes are not shown, as a "
              "comment is limited to 65,535 characters; the CI log and the saved plan "
              "file have them all")
    return "\n".join(head + opening + kept + [fence, "", f"**{notice}**"] + closing + tail)
