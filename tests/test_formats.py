"""Format details a reviewer relies on: comment size, colour only on terminals, JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.plans import Action, Change, Plan
from reconciler.rendering import markdown, text
from schema.state import Kind, ResourceKey
from tests.conftest import Run, WriteTree


def _plan(changes: int) -> Plan:
    return Plan("Big", tuple(
        Change(Action.CREATE, ResourceKey("Main", Kind.HOT_DESK_USER, f"{10000 + i}"),
               {"name": f"Desk number {i} with a long name", "package": "Basic"})
        for i in range(changes)))


def test_markdown_fits_a_github_comment() -> None:
    rendered = markdown.render(_plan(5000), "sqlite:///t.db", "sha256:x")
    assert len(rendered) <= markdown.GITHUB_COMMENT_LIMIT
    assert "truncated: " in rendered
    assert "of 5000 changes are not shown" in rendered
    assert rendered.rstrip().endswith("Plan checksum: `sha256:x`")
    assert rendered.count("```") == 2  # the fence still closes


def test_small_markdown_is_not_truncated() -> None:
    rendered = markdown.render(_plan(3), "sqlite:///t.db", "sha256:x")
    assert "truncated" not in rendered
    assert "| site | kind | create | update | replace | delete |" in rendered
    assert "| Main | hot_desk_user | 3 | 0 | 0 | 0 |" in rendered


def test_backticks_in_values_cannot_close_the_fence() -> None:
    plan = Plan("T", (Change(Action.CREATE, ResourceKey("Main", Kind.SHARED_LINE, "300"),
                             {"description": "```not code```"}),))
    rendered = markdown.render(plan, "d", "sha256:x")
    assert "````diff" in rendered


def test_text_colour_only_when_asked() -> None:
    plan = _plan(1)
    assert "\x1b[" in text.render(plan, "d", colour=True)
    assert "\x1b[" not in text.render(plan, "d", colour=False)


def test_cli_output_to_a_pipe_has_no_colour(run: Run, example_sites: Path) -> None:
    assert "\x1b[" not in run("plan").stdout


def test_json_format_is_the_saved_plan_document(run: Run, example_sites: Path,
                                                tmp_path: Path) -> None:
    printed = json.loads(run("plan", "--format", "json", "--out", "plan.json").stdout)
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert printed == saved
    assert set(printed) == {"format_version", "tool", "tenant", "config_digest", "sites",
                            "excluded_sites", "summary", "changes", "unmanaged", "ignored",
                            "needs_force",
                            "checksum"}
    assert set(printed["changes"][0]) == {"step", "action", "label", "site", "kind", "number",
                                          "fields", "diffs", "password_from", "replaces",
                                          "adopt", "note", "origin"}


def test_unknown_format_is_a_usage_error(run: Run, write_tree: WriteTree) -> None:
    write_tree({})
    result = run("plan", "--format", "yaml")
    assert result.exit_code == 1
    assert "Invalid value for '--format'" in result.stderr
