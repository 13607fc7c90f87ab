"""Names are text in every format (issue 21, point 4): a pull request controls site
folder names, file names, the tenant's name, user names and descriptions. Fed through
every renderer in RENDERERS and the job summary, none becomes markdown: no @mention,
HTML, link, image or hidden marker outside code. The markdown is read by a real
CommonMark parser (markdown-it-py, tables on), as GitHub and GitLab read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.output.job_summaries import fitted
from reconciler.rendering import RENDERERS
from tests.conftest import Run, WriteTree

SITE = "@here <img src=x> [l](https:__e.co) <!--m--> `t` | www.e.co"
NAME = "@mallory <b>x</b> [t](https://e.co) ``x`` | <!--m-->"
DESCRIPTION = "![i](https://e.co/i.png) @team #1 <script>"
TENANT = "@ops <i>T</i> [x](https://e.co)"
#: Our own HTML in the comment: the folded details, nothing else.
OURS = re.compile(r"<details><summary>Details: \d+ change\(s\) in apply order</summary>\n?"
                  r"|</details>\n?")


def _tree(write_tree: WriteTree, users: str) -> Path:
    tenant = (f'tenant: "{TENANT}"\nplatform_version: "6.0"\nlicences:\n  shared_lines: 5\n'
              "  shared_licensing: true\npackages:\n  Basic: 10\n")
    return write_tree({
        f"{SITE}/users.yaml": users,
        f"{SITE}/lines.yaml": f"""\
            shared_lines:
              - number: "3000"
                description: "{DESCRIPTION}"
                members: [{{extension: "1001"}}]
            """,
    }, tenant=tenant)


USERS = f"""\
    users:
      - {{extension: "1001", name: "{NAME}", package: Basic, devices: [IP-DECT 110]}}
      - {{extension: "1002", name: "{NAME[:20]}", package: Basic, devices: [IP-DECT 110]}}
      - {{extension: "1900", name: Left alone, package: Basic, devices: [IP-DECT 110]}}
    """


def _unsafe_outside_code(markdown: str) -> list[str]:
    """Everything in `markdown` that is not plain text or code: HTML other than our
    details, links, images; and text outside code holding what would mention, link
    or hide (@, <, www., http)."""
    parser = MarkdownIt("commonmark").enable("table")
    found = []
    stack: list[Token] = list(parser.parse(markdown))
    while stack:
        token = stack.pop()
        stack.extend(token.children or [])
        if token.type in ("html_block", "html_inline") and not OURS.fullmatch(token.content):
            found.append(f"{token.type}: {token.content!r}")
        elif token.type in ("link_open", "image", "autolink_open"):
            found.append(f"{token.type}: {token.attrs}")
        elif token.type == "text" and re.search(r"@|<|www\.|https?:", token.content):
            found.append(f"text: {token.content!r}")
    return found


@pytest.fixture
def hostile_plan(run: Run, write_tree: WriteTree, tmp_path: Path) -> Path:
    """A saved plan that shows every place a name can reach: creates, an update, a
    delete needing --force (a site emptied of users), a resource left alone."""
    root = _tree(write_tree, USERS)
    assert run("apply", "--auto-approve").exit_code == 0
    (root / SITE / "users.yaml").write_text(
        f'users:\n  - {{extension: "1001", name: "{NAME[::-1]}", package: Basic, '
        'devices: [IP-DECT 110]}\n')
    (root / SITE / "lines.yaml").write_text("shared_lines: []\n")
    (root / SITE / "site.yaml").write_text('site:\n  ignore: ["19*"]\n')  # 1900 left alone
    result = run("plan", "--out", "plan.json", "--summary-file", "summary.md")
    assert result.exit_code == 0, result.output
    return tmp_path / "plan.json"


def test_markdown_and_the_job_summary_show_every_name_as_code(run: Run, hostile_plan: Path,
                                                             tmp_path: Path) -> None:
    markdown = run("show", str(hostile_plan), "--format", "markdown").stdout
    for shown in (markdown, (tmp_path / "summary.md").read_text()):
        assert _unsafe_outside_code(shown) == []
        # ...and every name is still there, readable, in code
        assert "``x``" in shown and "@mallory" in shown and SITE.split(" |")[0] in shown
        assert "apply needs `--force`" in shown  # the reason quoting the site is shown
        assert "/user 1900`` (ignored)" in shown  # and the resource left alone


def test_a_site_name_with_a_pipe_keeps_the_table_whole(run: Run, hostile_plan: Path) -> None:
    """GitHub (cmark-gfm) splits a row at every '|' not escaped, inside code spans too:
    each row must have exactly its seven."""
    markdown = run("show", str(hostile_plan), "--format", "markdown").stdout
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 3  # the header and the hostile site's two kinds
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_renderer_keeps_names_as_text(run: Run, hostile_plan: Path, name: str) -> None:
    shown = run("show", str(hostile_plan), "--format", name)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    if name == "markdown":
        assert _unsafe_outside_code(out) == []
    elif name == "json":
        document = json.loads(out)
        assert SITE in {change["site"] for change in document["changes"]}  # exact, escaped
    elif name == "gitlab":
        assert all(isinstance(v, int) for v in json.loads(out).values())  # counts only
    else:  # text and runbook: plain text, the name as written, nothing interpreted
        assert NAME[::-1] in out and "\x1b" not in out


def test_a_summary_cut_inside_a_long_fence_closes_it_with_as_many_backticks() -> None:
    """A name holding backticks makes the details' fence longer than three; the cut
    must close that fence, or the note after it (and anything after) is code."""
    body = "\n".join(f"+ create user {i}: name \"``x``\"" for i in range(200))
    markdown = f"### plan\n\n````diff\n{body}\n````\n\nafter\n"
    cut, was_cut = fitted(markdown, 2_000, 200)
    assert was_cut
    tokens = MarkdownIt("commonmark").parse(cut)
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and "is cut here" not in fences[0].content
    assert any("is cut here" in (t.content or "") for t in tokens if t.type == "inline")


def test_a_hostile_folder_cannot_write_a_workflow_command_or_break_a_report(
        run: Run, write_tree: WriteTree) -> None:
    """GitHub reads every stdout line starting with '::' as a command: a folder name with
    a line break and its own '::error' must stay inside one escaped annotation."""
    folder = "A\n::error file=x::injected,%0A"
    write_tree({f"{folder}/users.yaml": USERS})
    github = run("validate", "--format", "github")
    assert github.exit_code == 1
    lines = github.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("::error file=sites/A%0A%3A%3Aerror")
    quality = run("validate", "--format", "gitlab-codequality")
    (issue,) = json.loads(quality.stdout)
    assert issue["location"]["path"] == f"sites/{folder}"  # exact, in JSON's own escaping
