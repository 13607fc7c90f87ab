"""`reconcile import --update`: the tenant's current values written into an existing tree,
by the smallest edit (`yaml_edits`), so the portal's changes come back into git with
every comment and decision around them kept.

    copy the tree to a staging folder -> tenant.yaml's facts made the tenant's -> plan
    the copy against the tenant: each change says what differs -> edit the copy:
      an update: the values the plan would write become the tenant's
      a create (in git, gone from the tenant): the item goes, with its comments
      a delete, or a resource left alone (in the tenant, not in git): appended to its
        site's file for that kind, as `import` writes it (or a new file)
    -> plan the copy again: it must plan empty but for adoptions -> move the edited
       files into the tree, each whole

A field the config does not write stays unwritten: only what the plan compares is
edited. Passwords are never read back (the tenant holds none to read).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.loading import config_tree
from reconciler.loading.config_loading import load_config, load_tenant_settings
from reconciler.loading.config_tree import TENANT_FILE
from reconciler.loading.yaml_reading import LocatedDict, LocatedList, parse_content
from reconciler.plans import Plan, SiteFilter
from reconciler.plans.changes import Action
from reconciler.providers import Provider
from reconciler.runs import Planned, plan_run
from reconciler.runtime.errors import ConfigError, ReconcilerError
from reconciler.writing import config_writing
from reconciler.writing.importing import ensure_only_adoptions
from reconciler.writing.yaml_edits import EditRefused, TextEdits
from schema import kinds
from schema.purchases import fact_changes
from schema.settings import declared_facts
from schema.state import ResourceKey, TenantState

#: Never read back from a tenant: it holds no password, only that one was set.
_NOT_READ_BACK = {"password", "password_rotation"}


@dataclass(slots=True)
class Updated:
    files: list[str] = field(default_factory=list)
    values: int = 0
    added: int = 0
    removed: int = 0
    #: resources made by hand the tree now declares: the next apply adopts them
    to_adopt: int = 0


def update_run(provider: Provider, state: TenantState, out: Path, chosen: SiteFilter,
               secret_prefix: str) -> tuple[Updated, Planned]:
    if not (out / TENANT_FILE).is_file():
        raise ReconcilerError(f"{out} holds no {TENANT_FILE}: --update edits an existing tree; "
                              "import without it to write a new one")
    load_config(out)  # the tree's own problems first, said of its own files
    with tempfile.TemporaryDirectory(prefix=".reconciler-update-",
                                     dir=out.resolve().parent) as scratch:
        staging = Path(scratch) / "sites"
        shutil.copytree(out, staging, symlinks=True)
        editing = _Editing(staging, state, secret_prefix)
        try:
            editing.facts()
            editing.write()
            planned = plan_run(staging, provider, chosen, secret_prefix, state=state)
            editing.changes(planned.plan)
            editing.write()
            checked = plan_run(staging, provider, chosen, secret_prefix, state=state)
        except ConfigError as error:
            # Said of the tree itself: the staging copy's paths are the tree's.
            shown = config_tree.shown(staging)
            raise ReconcilerError(
                "with the tenant's values, the tree would not validate; nothing was written. "
                "The tenant now needs what the tree does not say (a MAC for a new desk "
                "phone, say): write it by hand, then run import --update again.\n"
                + "\n".join(str(problem).replace(shown, str(out).rstrip("/"))
                            for problem in error.problems)) from error
        except EditRefused as error:
            raise ReconcilerError(f"cannot edit the tree in place ({error}); nothing was "
                                  "written") from error
        ensure_only_adoptions(checked.plan, "the updated tree", "nothing was written. ")
        for done, relative in enumerate(sorted(editing.touched)):
            try:
                _move_in(staging / relative, out / relative)
            except OSError as error:
                raise ReconcilerError(
                    f"cannot write {out / relative}: {error.strerror or error}; it is as it "
                    f"was, and {done} file(s) before it were updated (each whole): fix the "
                    "cause and run import --update again") from error
    editing.done.files = sorted(path.as_posix() for path in editing.touched)
    editing.done.to_adopt = len(checked.plan.changes)
    return editing.done, checked


class _Editing:
    """The staging copy's files, read and edited; each file is written once per round."""

    def __init__(self, root: Path, state: TenantState, secret_prefix: str) -> None:
        self.root = root
        self.state = state
        self.secret_prefix = secret_prefix
        self.edits: dict[Path, TextEdits] = {}
        self.new_files: dict[Path, str] = {}
        self.touched: set[Path] = set()
        self.done = Updated()

    def facts(self) -> None:
        """tenant.yaml's platform, licences and seats: the tenant's."""
        live = self.state.facts
        if live is None:
            return
        path = self.root / TENANT_FILE
        data = self._data(path)
        declared = declared_facts(load_tenant_settings(self.root))
        for change in fact_changes(declared, live):
            if change.path == ("packages",):
                continue  # the upgrade order: a person's decision, said by the plan
            mapping, key = _parent(data, change.path)
            edits = self._edits(path)
            if change.new is None and change.old is not None and mapping is not None:
                edits.add_key(mapping, key, config_writing.value_text(key, change.old))
            elif mapping is not None and change.old is None:
                edits.remove_key(mapping, key)
            elif mapping is not None:
                edits.replace_value(mapping, key, config_writing.value_text(key, change.old))
            self.done.values += 1

    def changes(self, plan: Plan) -> None:
        shown = {config_tree.shown(path): path for path in self._tree_files()}
        appended: dict[tuple[str, kinds.KindDescription], list[ResourceKey]] = defaultdict(list)
        for change in plan.changes:
            if change.action is Action.RENUMBER:
                raise ReconcilerError(
                    f"the tree renumbers {change.key} (previous_extension or "
                    "previous_number): apply the renumber, or take it out, before --update")
            if change.action is Action.DELETE:
                appended[(change.key.site, kinds.describe(change.key.kind))].append(change.key)
            elif change.action is Action.CREATE:
                self._remove(shown, change.origin)
            elif change.origin is not None and not (change.adopt and not change.diffs):
                # (no origin: a resource git does not hold, such as a line made by hand
                # losing a member git no longer declares; appending the member restores it)
                self._update(shown, change.key, change.origin, list(change.fields))
        for key in plan.unmanaged:
            appended[(key.site, kinds.describe(key.kind))].append(key)
        for (site, description), keys in sorted(appended.items(),
                                                key=lambda item: (item[0][0],
                                                                  item[0][1].list_name)):
            self._append(site, description, sorted(keys, key=lambda k: (len(k.number),
                                                                        k.number)))

    def write(self) -> None:
        for path, edits in self.edits.items():
            text = edits.result()
            if text != edits.text:
                path.write_text(text, encoding="utf-8")
                self.touched.add(path.relative_to(self.root))
        for path, text in self.new_files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.touched.add(path.relative_to(self.root))
        self.edits, self.new_files = {}, {}

    # --- one change each ------------------------------------------------------------

    def _update(self, shown: dict[str, Path], key: ResourceKey, origin: object,
                names: list[str]) -> None:
        path, item = self._item(shown, key, origin)
        tenant = self.state.resources[key]
        for name in names:
            if name in _NOT_READ_BACK:
                continue
            text = config_writing.value_text(name, tenant.get(name))
            if name in item:
                self._edits(path).replace_value(item, name, text)
            else:  # a default the config relies on: now written, as the tenant has it
                self._edits(path).add_key(item, name, text)
            self.done.values += 1

    def _remove(self, shown: dict[str, Path], origin: object) -> None:
        path, item = self._item(shown, None, origin)
        data = self._data(path)
        for list_name in kinds.by_list_name():
            items = data.get(list_name) if isinstance(data, LocatedDict) else None
            if isinstance(items, LocatedList):
                for index, mark in enumerate(items.item_marks):
                    if mark == item.mark:
                        self._edits(path).remove_item(items, index)
                        self.done.removed += 1
                        return
        raise ReconcilerError(f"cannot find the item at {origin} to remove it")

    def _append(self, site: str, description: kinds.KindDescription,
                keys: list[ResourceKey]) -> None:
        rendered = "".join(config_writing.resource_entry(
            description, key, self.state.resources[key], self.state, self.secret_prefix)
            for key in keys)
        self.done.added += len(keys)
        for path in self._site_files(site):
            data = self._data(path)
            items = data.get(description.list_name) if isinstance(data, LocatedDict) else None
            if isinstance(items, LocatedList) and items:
                try:
                    self._edits(path).append_items(items, rendered)
                    return
                except EditRefused:
                    continue
            if isinstance(data, LocatedDict) and description.list_name in data:
                self._edits(path).replace_with_block(data, description.list_name, rendered)
                return
        name = config_writing.file_name(description)
        target = self.root / site / name
        counter = 2
        while target.exists() or target in self.new_files:
            target = self.root / site / f"{Path(name).stem}-{counter}.yaml"
            counter += 1
        self.new_files[target] = (
            f"{config_writing.SITE_SCHEMA_LINE}# {description.portal_menu}: the "
            f"{description.plural} of site {site}, as imported.\n"
            f"{description.list_name}:\n{rendered}")

    # --- finding things ---------------------------------------------------------------

    def _item(self, shown: dict[str, Path], key: ResourceKey | None,
              origin: object) -> tuple[Path, LocatedDict]:
        """The item a change comes from: its file, and its mapping read afresh."""
        where = str(origin)
        file, line, column = where.rsplit(":", 2)
        path = shown.get(file)
        if path is None:
            raise ReconcilerError(f"cannot find {file}, which {key} comes from")
        data = self._data(path)
        found = _mapping_at(data, (int(line) - 1, int(column) - 1))
        if found is None:
            raise ReconcilerError(f"cannot find the item at {where}")
        return path, found

    def _data(self, path: Path) -> object:
        return parse_content(path.read_bytes(), config_tree.shown(path)).data

    def _edits(self, path: Path) -> TextEdits:
        if path not in self.edits:
            self.edits[path] = TextEdits(path.read_text(encoding="utf-8"))
        return self.edits[path]

    def _tree_files(self) -> list[Path]:
        tree = config_tree.walk(self.root)
        return [*([tree.tenant_file] if tree.tenant_file else []),
                *(path for _, path in tree.site_files)]

    def _site_files(self, site: str) -> list[Path]:
        return [path for name, path in config_tree.walk(self.root).site_files if name == site]


def _mapping_at(data: object, mark: tuple[int, int]) -> LocatedDict | None:
    """The item mapping of a site file's lists that starts at `mark`."""
    if not isinstance(data, LocatedDict):
        return None
    for list_name in kinds.by_list_name():
        items = data.get(list_name)
        if isinstance(items, LocatedList):
            for item in items:
                if isinstance(item, LocatedDict) and item.mark == mark:
                    return item
    return None


def _parent(data: object, path: tuple[str, ...]) -> tuple[LocatedDict | None, str]:
    node = data
    for step in path[:-1]:
        node = node.get(step) if isinstance(node, LocatedDict) else None
    return (node if isinstance(node, LocatedDict) else None), path[-1]


def _move_in(source: Path, target: Path) -> None:
    """Each file whole: written beside its place, then moved over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.update-tmp")
    shutil.copyfile(source, temporary)
    if target.exists():
        os.chmod(temporary, target.stat().st_mode & 0o7777)
    os.replace(temporary, target)
