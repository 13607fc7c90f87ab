"""What is in the config directory: every entry is read, ignored by a documented rule, or
reported. Nothing is skipped in silence.

    sites/tenant.yaml          the tenant's settings
    sites/<site>/*.yaml|*.yml  site files (any letter case); the folder names the site
    ignored                    hidden entries (.git, .#x), editor backups (x~, x.swp,
                               #x#) and `.reconcilerignore` patterns
    anything else              a problem naming it: a YAML file outside a site folder, a
                               folder inside a site, another kind of file, a symlink
                               leading out of the tree or nowhere, a FIFO or a device

A symlink inside the tree is followed; one that leads out of it is refused
before it is opened, so no message can ever show another file's contents.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from schema import rulebook
from schema.locations import Location
from schema.printable import control_characters
from schema.problems import Problem

TENANT_FILE = "tenant.yaml"
IGNORE_FILE = ".reconcilerignore"
MAX_FILES = 10_000
MAX_SITE_NAME = 64
DEFAULT_IGNORED = (".*", "*~", "*.swp", "*.swo", "#*#")
_YAML_SUFFIXES = (".yaml", ".yml")

Entry = Literal["file", "folder"]


@dataclass(slots=True)
class ConfigTree:
    """The files to read, and what was wrong with the rest."""

    tenant_file: Path | None = None
    site_files: list[tuple[str, Path]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)


def shown(path: Path) -> str:
    """A path as the user will want to click it: relative to the working directory."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def is_yaml(name: str) -> bool:
    return name.lower().endswith(_YAML_SUFFIXES)


def walk(config_dir: Path) -> ConfigTree:
    walker = _Walker(config_dir)
    for entry in walker.entries(config_dir):
        what = walker.classify(entry)
        if what == "folder":
            walker.site(entry)
        elif what == "file" and entry.name == TENANT_FILE:
            walker.tree.tenant_file = entry
        elif what == "file" and is_yaml(entry.name):
            walker.problem(entry, f"'{entry.name}' is not in a site folder; move it to "
                                  f"{config_dir.name}/<site>/{entry.name} (the folder name is "
                                  "the site)")
        elif what == "file":
            walker.not_yaml(entry)
    return walker.tree


class _Walker:
    def __init__(self, config_dir: Path) -> None:
        self.root = config_dir.resolve()
        self.config_dir = config_dir
        self.tree = ConfigTree()
        self.current_site: str | None = None
        self.patterns = (*DEFAULT_IGNORED, *self._ignore_file())

    def entries(self, folder: Path) -> list[Path]:
        """The folder's entries in name order, less those ignored (and counted)."""
        try:
            names = sorted(os.listdir(folder))
        except OSError as error:
            self.problem(folder, f"cannot list this folder: {error.strerror}")
            return []
        kept = []
        for name in names:
            entry = folder / name
            if self._ignored(entry):
                self.tree.ignored.append(entry)
            else:
                kept.append(entry)
        return kept

    def site(self, folder: Path) -> None:
        name = folder.name
        if control_characters(name) or len(name) > MAX_SITE_NAME:
            self.problem(folder, f"site folder name has control characters or is longer than "
                                 f"{MAX_SITE_NAME} characters; rename the folder",
                         rulebook.TEXT_FORMAT)
            return
        entries = self.entries(folder)  # a folder that cannot be listed: no site's
        self.current_site = name  # the site of every problem found inside it
        for entry in entries:
            what = self.classify(entry)
            if what == "folder":
                self.problem(entry, f"folder '{entry.name}' inside site {name} is not read: "
                                    f"site files sit directly in {self.config_dir.name}/{name}/; "
                                    f"move its files up, or list it in {IGNORE_FILE}")
            elif what == "file" and is_yaml(entry.name):
                if len(self.tree.site_files) == MAX_FILES:
                    self.problem(self.config_dir, f"more than {MAX_FILES:,} site files; that is "
                                                  "over the limit, merge some of them",
                                 rulebook.CONFIG_LIMITS, in_site=False)
                if len(self.tree.site_files) <= MAX_FILES:
                    self.tree.site_files.append((name, entry))
            elif what == "file":
                self.not_yaml(entry)
        self.current_site = None

    def classify(self, entry: Path) -> Entry | None:
        """A file or folder to use, following symlinks that stay inside the tree;
        anything else is reported here and gives None."""
        try:
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                target = entry.resolve(strict=True)
                if not target.is_relative_to(self.root):
                    self.problem(entry, "is a symbolic link leading out of the config tree; "
                                        "refused (copy the file in instead)")
                    return None
                info = target.stat()
        except FileNotFoundError:
            self.problem(entry, "is a symbolic link to nothing (its target does not exist); "
                                "remove it or point it at a file in the tree")
            return None
        except (OSError, RuntimeError):
            self.problem(entry, "is a symbolic link that loops or cannot be followed; remove it")
            return None
        if stat.S_ISDIR(info.st_mode):
            return "folder"
        if stat.S_ISREG(info.st_mode):
            return "file"
        self.problem(entry, "is not a regular file (a FIFO, socket or device); only YAML files "
                            "and site folders belong in the config tree")
        return None

    def not_yaml(self, entry: Path) -> None:
        self.problem(entry, f"'{entry.name}' is not a YAML file (.yaml or .yml) and is not "
                            f"read; rename it, move it out of {self.config_dir.name}/, or list "
                            f"it in {self.config_dir.name}/{IGNORE_FILE}")

    def problem(self, entry: Path, message: str,
                rule: rulebook.Rule = rulebook.CONFIG_LAYOUT, in_site: bool = True) -> None:
        """A problem with an entry; inside a site folder, it is that site's."""
        site = self.current_site if in_site else None
        self.tree.problems.append(Problem(rule.id, message, Location(shown(entry)), site))

    def _ignored(self, entry: Path) -> bool:
        relative = entry.relative_to(self.config_dir).as_posix()
        return any(fnmatchcase(relative if "/" in pattern else entry.name, pattern)
                   for pattern in self.patterns)

    def _ignore_file(self) -> list[str]:
        """`.reconcilerignore`: one glob a line; with a '/', matched against the path
        from the config directory, else against the name; '#' starts a comment."""
        path = self.config_dir / IGNORE_FILE
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
        except (OSError, UnicodeDecodeError):
            self.problem(path, f"cannot read {IGNORE_FILE} as UTF-8 text; fix or remove it")
            return []
        patterns = (line.strip().rstrip("/") for line in text.splitlines())
        return [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
