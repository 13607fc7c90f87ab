"""A small plan stays quick to start (issue 13, target 7): most of its time is imports,
so the commands a plan never uses are imported when asked for, and a warm plan builds
no validator for the resources it restores from the cache. Timings live in
benchmarks/speed_targets.py; these tests check the work is not done at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.processes import environment

#: Modules only other commands need: `import`, `list-download`, `tenant`,
#: `local-tenant`, `schema`, and the List Download tenant with its spreadsheet reader.
ONLY_FOR_OTHER_COMMANDS = (
    "reconciler.commands.import_tenant", "reconciler.writing.importing",
    "reconciler.writing.config_writing",
    "reconciler.commands.list_download", "reconciler.output.list_upload",
    "reconciler.providers.list_download", "reconciler.commands.tenant",
    "reconciler.commands.local_tenant", "reconciler.commands.editor_schema",
    "schema.json_schemas", "openpyxl",
)

_PLAN_AND_REPORT = """
import json, sys
from reconciler.cli import cli
from schema import kinds
try:
    cli.main(["plan", *sys.argv[1:]], standalone_mode=False)
except SystemExit:
    pass
built = sorted(d.model.__name__ for d in kinds.KINDS.values()
               if type(d.model.__pydantic_validator__).__name__ != "MockValSer")
print(json.dumps({"modules": sorted(sys.modules), "validators_built": built}),
      file=sys.stderr)
"""


def _plan_in_a_process(sites: Path, *args: str) -> dict[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", _PLAN_AND_REPORT, str(sites), *args],
                          cwd=sites.parent, capture_output=True, text=True, timeout=60,
                          env=environment(), stdin=subprocess.DEVNULL)
    report: dict[str, list[str]] = json.loads(done.stderr.strip().splitlines()[-1])
    return report


def test_a_plan_imports_no_other_commands_code(example_sites: Path) -> None:
    loaded = _plan_in_a_process(example_sites)["modules"]
    imported = [m for m in loaded if m.startswith(ONLY_FOR_OTHER_COMMANDS)]
    assert imported == []
    assert "reconciler.plans" in loaded  # it did plan


def test_a_warm_plan_builds_no_resource_validator(example_sites: Path) -> None:
    cold = _plan_in_a_process(example_sites)
    assert cold["validators_built"]  # the first plan validated the files
    assert _plan_in_a_process(example_sites)["validators_built"] == []
    assert _plan_in_a_process(example_sites, "--no-cache")["validators_built"]
