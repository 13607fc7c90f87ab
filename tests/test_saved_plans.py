"""What was reviewed is what gets applied: saved plans, checksums and staleness."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.rendering import RENDERERS
from tests.conftest import Run
from tests.processes import reconcile
from tests.tenant_helpers import portal_edit

DB = Path(".reconciler/tenant.db")


def _checksum_line(output: str) -> str:
    last = output.rstrip().splitlines()[-1]
    assert last.startswith("Plan checksum: sha256:")
    return last.removeprefix("Plan checksum: ")


def test_plan_out_writes_a_documented_plan_file(run: Run, example_sites: Path,
                                                tmp_path: Path) -> None:
    result = run("plan", "--out", "plan.json")
    assert result.exit_code == 0, result.stderr
    document = json.loads((tmp_path / "plan.json").read_text())
    assert document["format_version"] == 1
    assert document["tool"] == {"name": "ipecs-reconciler", "version": "0.1.0"}
    assert document["config_digest"].startswith("sha256:")
    assert [c["step"] for c in document["changes"]] == list(range(1, 9))
    assert document["changes"][0]["origin"] == "sites/Main/hot-desk-users.yaml:5:5"
    assert document["checksum"] == _checksum_line(result.stdout)


def test_apply_saved_plan(run: Run, example_sites: Path) -> None:
    run("plan", "--out", "plan.json")
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_apply_refuses_when_the_tenant_changed(run: Run, example_sites: Path,
                                               tmp_path: Path) -> None:
    run("apply", "--auto-approve")
    users = example_sites / "Main" / "users.yaml"
    users.write_text(users.read_text().replace("name: test vqm", "name: reviewed"))
    run("plan", "--out", "plan.json")
    portal_edit(tmp_path / DB, "UPDATE users SET name = 'someone' WHERE extension = '0965'")
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "the plan is stale, refusing to apply" in result.stderr
    assert "the tenant changed since the plan was made (the config did not)" in result.stderr
    # in the plan's own words, not its JSON
    assert 'newly planned: update user 0965 (Main): name: "someone" -> "0965"' in result.stderr
    assert '"fields"' not in result.stderr
    assert "someone" not in run("plan").stdout.split("0965")[0]  # nothing was applied


def test_apply_refuses_when_the_config_changed(run: Run, example_sites: Path) -> None:
    run("plan", "--out", "plan.json")
    lines = example_sites / "Main" / "shared-lines.yaml"
    lines.write_text(lines.read_text().replace('"12345"', '"54321"'))
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "the config changed since the plan was made" in result.stderr
    assert "no longer planned: create shared_line 555 (Main)" in result.stderr
    assert "newly planned: create shared_line 555 (Main)" in result.stderr
    assert 'autodial_digit "54321"' in result.stderr and '"diffs"' not in result.stderr
    assert run("plan", "--detailed-exitcode").exit_code == 2


def test_reformatting_the_yaml_keeps_the_review_valid(run: Run, example_sites: Path) -> None:
    run("plan", "--out", "plan.json")
    lines = example_sites / "Main" / "shared-lines.yaml"
    lines.write_text("# a comment moves every line down\n\n" + lines.read_text())
    assert run("apply", "--plan", "plan.json", "--auto-approve").exit_code == 0


def test_apply_with_checksum(run: Run, example_sites: Path) -> None:
    wanted = _checksum_line(run("plan").stdout)
    stale = run("apply", "--checksum", "sha256:" + "0" * 64, "--auto-approve")
    assert stale.exit_code == 1
    assert "the config or the tenant changed since the plan was reviewed" in stale.stderr
    assert run("apply", "--checksum", wanted, "--auto-approve").exit_code == 0


def test_empty_plan_has_a_checksum_too(run: Run, example_sites: Path) -> None:
    run("apply", "--auto-approve")
    out = run("plan").stdout
    assert "No changes" in out
    _checksum_line(out)


def test_bad_plan_files(run: Run, example_sites: Path, tmp_path: Path) -> None:
    missing = run("apply", "--plan", "nope.json")
    assert missing.exit_code == 1
    assert "plan file nope.json does not exist" in missing.stderr
    (tmp_path / "junk.json").write_text("{not json")
    junk = run("apply", "--plan", "junk.json")
    assert junk.exit_code == 1 and "is not a readable plan" in junk.stderr
    (tmp_path / "old.json").write_text('{"format_version": 99}')
    old = run("apply", "--plan", "old.json")
    assert old.exit_code == 1 and "has format_version 99" in old.stderr


def test_saved_plan_keeps_its_site_filter(run: Run, example_sites: Path) -> None:
    run("plan", "--site", "Main", "--out", "plan.json")
    clash = run("apply", "--plan", "plan.json", "--site", "Other")
    assert clash.exit_code == 1
    assert "differ from the saved plan's" in clash.stderr


def test_plan_file_without_a_checksum(run: Run, example_sites: Path, tmp_path: Path) -> None:
    run("plan", "--out", "plan.json")
    document = json.loads((tmp_path / "plan.json").read_text())
    del document["checksum"]
    (tmp_path / "plan.json").write_text(json.dumps(document))
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "plan file plan.json is malformed (checksum: Field required); make it again" \
        in result.stderr


def _edited(tmp_path: Path, edit: object) -> None:
    document = json.loads((tmp_path / "plan.json").read_text())
    edit(document)  # type: ignore[operator]
    (tmp_path / "plan.json").write_text(json.dumps(document))


def _change_a_value(document: dict) -> None:  # type: ignore[type-arg]
    document["changes"][0]["fields"]["name"] = "someone else"


def _drop_a_change(document: dict) -> None:  # type: ignore[type-arg]
    del document["changes"][-1]


def _widen_the_filters(document: dict) -> None:  # type: ignore[type-arg]
    document["excluded_sites"] = ["Main"]


def _new_checksum(document: dict) -> None:  # type: ignore[type-arg]
    document["checksum"] = "sha256:" + "0" * 64


@pytest.mark.parametrize("edit", [_change_a_value, _drop_a_change, _widen_the_filters,
                                  _new_checksum])
def test_an_edited_plan_file_is_refused(run: Run, example_sites: Path, tmp_path: Path,
                                        edit: object) -> None:
    run("plan", "--out", "plan.json")
    _edited(tmp_path, edit)
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "plan file plan.json was edited after it was made" in result.stderr
    assert not (tmp_path / DB).exists()  # nothing applied, not even the tenant set up


def test_a_plan_file_edited_with_a_matching_checksum_is_stale(run: Run, example_sites: Path,
                                                              tmp_path: Path) -> None:
    """sha256 is no signature: whoever edits can recompute it. The fresh plan still
    has to be the file's, so the edit cannot choose what is applied."""
    from reconciler.plans.serializing import document_checksum

    run("plan", "--out", "plan.json")

    def forge(document: dict) -> None:  # type: ignore[type-arg]
        _drop_a_change(document)
        document["checksum"] = document_checksum(document)

    _edited(tmp_path, forge)
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert "the plan is stale, refusing to apply" in result.stderr
    assert not (tmp_path / DB).exists()


@pytest.mark.parametrize("content,message", [
    ('{"format_version": 1, "changes": "all of them"}', "is malformed (tenant: Field required)"),
    ('{"format_version": 1, "tenant": "T", "config_digest": "x", "sites": [], '
     '"excluded_sites": [], "needs_force": [], "checksum": "x", "changes": [{"step": 1}]}',
     "is malformed (changes.0.action: Field required)"),
    ("[1, 2", "is not a readable plan"),
    ("[" * 100_000 + "]" * 100_000, "is not a readable plan (nested too deeply)"),
    ("\xff\xfe", "is not a readable plan"),
])
def test_a_malformed_plan_file_gets_a_message(run: Run, example_sites: Path, tmp_path: Path,
                                              content: str, message: str) -> None:
    (tmp_path / "plan.json").write_text(content, encoding="latin-1")
    result = run("apply", "--plan", "plan.json", "--auto-approve")
    assert result.exit_code == 1
    assert f"error: plan file plan.json {message}" in result.stderr
    assert "internal error" not in result.stderr


def test_a_fifo_device_or_huge_plan_file_is_refused_at_once(example_sites: Path,
                                                            tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(257 * 1024 * 1024)  # sparse: costs no disk
    for plan_file, message in ((fifo, "is not a regular file"),
                               (Path("/dev/zero"), "is not a regular file"),
                               (huge, "over the 268,435,456-byte limit")):
        # A separate process with a timeout: if the guard broke, this fails, not hangs.
        result = reconcile("apply", "--plan", str(plan_file), "--auto-approve",
                           str(example_sites), cwd=tmp_path, timeout=20)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr


def test_checksum_accepts_the_bare_digest(run: Run, example_sites: Path) -> None:
    digest = _checksum_line(run("plan").stdout).removeprefix("sha256:")
    result = run("apply", "--checksum", digest, "--auto-approve")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("output_format", list(RENDERERS))
def test_show_renders_the_saved_plan_as_plan_did(run: Run, example_sites: Path,
                                                 output_format: str) -> None:
    planned = run("plan", "--out", "plan.json", "--format", output_format).stdout
    shown = run("show", "plan.json", "--format", output_format)
    assert shown.exit_code == 0, shown.stderr
    # Only where the plan is from differs: the tenant, or the saved file.
    assert shown.stdout == planned.replace(
        "at sqlite:///.reconciler/tenant.db (does not exist yet; apply creates it)",
        "at (saved plan plan.json)")


def test_show_refuses_an_edited_plan(run: Run, example_sites: Path, tmp_path: Path) -> None:
    run("plan", "--out", "plan.json")
    _edited(tmp_path, _change_a_value)
    result = run("show", "plan.json")
    assert result.exit_code == 1
    assert "was edited after it was made" in result.stderr


def test_a_plan_file_cut_short_leaves_nothing_behind(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan file is streamed; Ctrl-C half way leaves neither a plan nor a temporary."""
    from reconciler.output import saved_plans

    def interrupted(document: dict[str, object]) -> Iterator[str]:
        yield "{\n"
        raise KeyboardInterrupt

    monkeypatch.setattr(saved_plans, "document_lines", interrupted)
    with pytest.raises(KeyboardInterrupt):
        saved_plans.write_plan_file(tmp_path / "plan.json", {"changes": []})
    assert list(tmp_path.iterdir()) == []
