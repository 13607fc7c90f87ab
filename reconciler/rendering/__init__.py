"""Rendering a plan document for people and tools: one registry of formats.

Every renderer takes a `PlanView` (the plan document, where it is from, colour
or not) and returns text; a format registered here is offered by `plan
--format` and `show --format`, and covered by the golden-file and no-secret
tests without anyone listing it again.
"""

from collections.abc import Callable

from reconciler.rendering import gitlab, json_document, markdown, runbook, text
from reconciler.rendering.view import PlanView
from schema.printable import printable

Renderer = Callable[[PlanView], str]


def _printable(render: Renderer) -> Renderer:
    """Whole-output escaping, for formats that do not colour (text escapes each line
    itself, before colouring)."""
    return lambda view: printable(render(view), keep_newlines=True)


def _text_with_checksum(view: PlanView) -> str:
    return text.render(view) + f"\nPlan checksum: {view.checksum}\n"


RENDERERS: dict[str, Renderer] = {
    "text": _text_with_checksum,
    "markdown": _printable(markdown.render),
    "json": _printable(json_document.render),
    "runbook": _printable(runbook.render),
    "gitlab": gitlab.render,
}

__all__ = ["RENDERERS", "PlanView", "Renderer"]
