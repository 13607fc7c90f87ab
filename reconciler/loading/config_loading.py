"""Read sites/ into a TenantConfig, or raise ConfigError listing every problem found.

Layout: sites/tenant.yaml holds the tenant's settings; every other folder under
sites/ is a site, named by the folder, holding any number of .yaml files with
`users`, `hot_desk_users` and `shared_lines` lists.

Items are validated one at a time, so one bad user does not hide the rest of
its file, and every problem of every file is reported in one run.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.loading import config_tree, scalar_styles, secrets, yaml_events
from reconciler.loading.config_tree import TENANT_FILE
from reconciler.loading.config_tree import shown as _shown
from reconciler.loading.site_file_cache import CachedSiteFile, ItemPath
from reconciler.loading.speedups import DEFAULT, Speedups
from reconciler.loading.yaml_reading import (
    LocatedDict,
    LocatedList,
    ReadResult,
    read_content,
)
from reconciler.runtime.errors import ConfigError, ReconcilerError
from schema import kinds, rulebook, rules
from schema.declarations import Declared, DeclaredSite, TenantConfig
from schema.locations import Location
from schema.nesting import models_below
from schema.problems import Problem, sorted_problems
from schema.settings import SiteSettings, TenantSettings

_LISTS: dict[str, type[BaseModel]] = {d.list_name: d.model for d in kinds.KINDS.values()}
_TOP_LEVEL = ["site", *_LISTS]


class _Reading:
    """What loading gathers as it goes: problems, site settings, the config's digest."""

    def __init__(self, config_dir: Path, speedups: Speedups = DEFAULT) -> None:
        self.config_dir = config_dir
        self.speedups = speedups
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # per file, as read (`scalar_styles`)
        self.sites: dict[str, DeclaredSite] = {}
        self.unparsed_numbers: set[str] = set()
        self.settings_files: set[Path] = set()  # site files holding a `site:` mapping
        self._digest = hashlib.sha256()

    def read(self, path: Path) -> ReadResult:
        shown = _shown(path)
        content = read_content(path, shown)
        if isinstance(content, ReadResult):
            return self.took(path, content)
        return self.took(path, self.speedups.parse(content, shown))

    def took(self, path: Path, result: ReadResult) -> ReadResult:
        """Count a file's problems and its bytes as read."""
        self.problems.extend(result.problems)
        self.digested(path, result.content)
        return result

    def digested(self, path: Path, content: bytes) -> None:
        """Add a file's path and bytes to the config's digest (what a saved plan was
        made from), whether it was parsed or came from the cache."""
        relative = path.relative_to(self.config_dir).as_posix()
        self._digest.update(f"{relative}\0{len(content)}\0".encode())
        self._digest.update(content)

    def digest(self) -> str:
        return "sha256:" + self._digest.hexdigest()


def load_config(config_dir: Path, secret_prefix: str | None = None,
                speedups: Speedups = DEFAULT) -> TenantConfig:
    """Load and validate everything; raise ConfigError with every problem, sorted.
    `secret_prefix`: what password variables must start with (see `secrets`).
    `speedups`: the events loader, and the cache of site files loaded before (plan and
    validate only); none of them changes what is returned (`speedups`)."""
    _check_config_dir(config_dir)
    prefix = secrets.allowed_prefix(secret_prefix)
    tree = config_tree.walk(config_dir)
    reading = _Reading(config_dir, speedups)
    problems = reading.problems
    problems.extend(tree.problems)
    settings, settings_source = _load_settings(config_dir, tree.tenant_file, reading)
    declared: list[Declared] = []
    files: Counter[str] = Counter()
    warnings: list[Problem] = []
    for site, file in tree.site_files:
        before, problems_before = len(declared), len(problems)
        declared.extend(_load_site_file(site, file, reading))
        files[site] += 1
        if len(declared) == before and len(problems) == problems_before \
                and file not in reading.settings_files:
            warnings.append(_empty_file_warning(file))
    if settings is None or settings_source is None:
        raise ConfigError(_in_their_sites(problems, tree))
    warnings = sorted_problems([*warnings, *reading.warnings])
    config = TenantConfig(settings, settings_source, declared, reading.sites, reading.digest(),
                          reading.unparsed_numbers, prefix, dict(files), warnings)
    problems.extend(rules.check(config))
    if not tree.problems:
        speedups.whole_tree_read()
    if problems:
        raise ConfigError(_in_their_sites(problems, tree), config)
    return config


def _in_their_sites(problems: list[Problem], tree: config_tree.ConfigTree) -> list[Problem]:
    """Sorted, each carrying its site: the site of the file it is in, as the walk found
    it (the tree's own problems carry theirs already; tenant.yaml's concern all)."""
    site_of = {_shown(file): site for site, file in tree.site_files}
    return sorted_problems([problem if problem.site is not None
                            else problem.in_site(site_of.get(problem.location.path))
                            for problem in problems])


def load_tenant_settings(config_dir: Path) -> TenantSettings:
    """tenant.yaml alone (for commands that need its settings, not the sites)."""
    _check_config_dir(config_dir)
    reading = _Reading(config_dir)
    path = config_dir / TENANT_FILE
    settings, _ = _load_settings(config_dir, path if path.is_file() else None, reading)
    if settings is None or reading.problems:
        raise ConfigError(reading.problems)
    return settings


def _check_config_dir(config_dir: Path) -> None:
    if not config_dir.exists():
        raise ReconcilerError(
            f"config directory '{config_dir}' does not exist; pass the folder that holds "
            f"{TENANT_FILE} and the site folders (default: ./sites)"
        )
    if not config_dir.is_dir():
        raise ReconcilerError(
            f"'{config_dir}' is a file, not a config directory; pass the folder that holds "
            f"{TENANT_FILE} and the site folders"
        )


def _load_settings(
    config_dir: Path, path: Path | None, reading: _Reading
) -> tuple[TenantSettings | None, LocatedDict | None]:
    problems = reading.problems
    if path is None:
        shown_path = _shown(config_dir / TENANT_FILE)
        site_folder = (config_dir.parent / TENANT_FILE).is_file()
        problems.append(Problem(
            rulebook.CONFIG_LAYOUT.id,
            f"{config_dir} looks like a site folder: pass its parent, the folder holding "
            f"{TENANT_FILE} (reconcile validate {config_dir.parent})" if site_folder else
            f"{TENANT_FILE} is missing; create it with tenant, platform_version, licences "
            "and packages (see README.md)",
            Location(shown_path),
        ))
        return None, None
    shown = _shown(path)
    result = reading.read(path)
    data = result.data
    if not isinstance(data, LocatedDict):
        if not result.problems:  # a syntax error already says what is wrong
            found = "empty" if data is None else f"a {_yaml_type(data)}"
            problems.append(Problem(
                rulebook.WRONG_TYPE.id,
                f"{TENANT_FILE} is {found}; it should be a mapping with tenant, "
                "platform_version, licences and packages (see README.md)",
                Location(shown),
            ))
        return None, None
    settings = _validate(TenantSettings, data, problems)
    reading.warnings.extend(scalar_styles.tenant_file(data, result.content, shown))
    return (settings, data) if isinstance(settings, TenantSettings) else (None, None)


def _empty_file_warning(file: Path) -> Problem:
    return Problem(rulebook.EMPTY_FILE.id,
                   "warning: this site file declares nothing; an emptied or truncated file "
                   "deletes what it held (removing every managed resource of a kind from a "
                   "site needs --force); delete the file if that is meant",
                   Location(_shown(file)))


def _load_site_file(site: str, file: Path, reading: _Reading) -> list[Declared]:
    """A site file's resources: from the cache when its bytes loaded cleanly before,
    else parsed and validated (and kept for next time if nothing is wrong)."""
    shown = _shown(file)
    content = read_content(file, shown)
    if isinstance(content, ReadResult):
        reading.took(file, content)
        return []
    speedups = reading.speedups
    cached = speedups.recall(shown, site, content)
    # A second `site:` mapping in a site is reported by reading the file as usual
    # (its entry was found, so it counts as a hit; the run fails on the problem).
    if cached is not None and not (cached.site_settings and site in reading.sites):
        reading.digested(file, content)
        return _use_cached(site, file, cached, reading)
    problems_before = len(reading.problems)
    had_settings = site in reading.sites
    watch = yaml_events.StyleWatch(scalar_styles.number_keys())
    data = reading.took(file, speedups.parse(content, shown, watch)).data
    found = list(_declare(site, file, data, reading))
    # Kept only when clean: a warning comes from reading the file, so a file with one
    # is read every time (until it is fixed) and never loses it to the cache.
    styles = scalar_styles.site_file(data, content, shown) if watch.seen else []
    reading.warnings.extend(styles)
    if len(reading.problems) == problems_before and not styles:
        settings = reading.sites.get(site) if not had_settings else None
        speedups.keep(shown, site, content, found, settings)
    return [declared for declared, _ in found]


def _use_cached(site: str, file: Path, cached: CachedSiteFile, reading: _Reading
                ) -> list[Declared]:
    if cached.site_settings is not None:
        reading.settings_files.add(file)
        reading.sites[site] = cached.site_settings
    return cached.declared


def _declare(site: str, file: Path, data: Any, reading: _Reading
             ) -> Iterator[tuple[Declared, ItemPath]]:
    """Each resource of a site file's data, with where its item sits in the file."""
    problems = reading.problems
    if data is None:
        return
    if not isinstance(data, LocatedDict):
        problems.append(Problem(
            rulebook.WRONG_TYPE.id,
            f"a site file is a mapping with users, hot_desk_users and/or shared_lines, "
            f"not a {_yaml_type(data)}",
            Location(_shown(file)),
        ))
        return
    for key in data:
        if key == "site":
            reading.settings_files.add(file)
            _load_site_settings(site, data, reading)
        elif key not in _LISTS:
            problems.append(_unknown_field(data, (key,), _TOP_LEVEL))
        elif isinstance(data[key], LocatedList):
            yield from _load_items(site, key, data[key], reading)
        elif data[key] is not None:
            problems.append(Problem(
                rulebook.WRONG_TYPE.id, f"{key} should be a list (items starting with '-'), "
                f"not a {_yaml_type(data[key])}", data.locate((key,)),
            ))


def _load_items(site: str, key: str, items: LocatedList, reading: _Reading
                ) -> Iterator[tuple[Declared, ItemPath]]:
    """Validate each entry of one list on its own, so one bad entry hides no other."""
    for index, item in enumerate(items):
        if not isinstance(item, LocatedDict):
            reading.problems.append(Problem(
                rulebook.WRONG_TYPE.id,
                f"each entry of {key} should be a mapping of fields, not a {_yaml_type(item)}",
                items.locate((index,)),
            ))
            continue
        resource = _validate(_LISTS[key], item, reading.problems)
        if resource is not None:
            yield Declared(site, resource, item), (key, index)
        else:
            # Its own problem is reported; do not also call it missing elsewhere.
            number = item.get("number", item.get("extension"))
            if isinstance(number, str):
                reading.unparsed_numbers.add(number)


def _load_site_settings(site: str, data: LocatedDict, reading: _Reading) -> None:
    block = data["site"]
    if not isinstance(block, LocatedDict):
        reading.problems.append(Problem(
            rulebook.WRONG_TYPE.id, f"site should be a mapping of settings (prune, ignore, "
            f"safety), not a {_yaml_type(block)}", data.locate(("site",))))
        return
    earlier = reading.sites.get(site)
    if earlier is not None:
        reading.problems.append(Problem(
            rulebook.SITE_SETTINGS_DUPLICATE.id,
            f"site {site} already has settings at {earlier.source.locate()}; keep one site: "
            "mapping per site", data.locate(("site",), key=True)))
        return
    settings = _validate(SiteSettings, block, reading.problems)
    if isinstance(settings, SiteSettings):
        reading.sites[site] = DeclaredSite(settings, block)


def _validate(model: type[BaseModel], data: LocatedDict, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = _without_misspelt_missing(error.errors())
        problems.extend(_problem_from(model, data, detail) for detail in details)
        return None


def _without_misspelt_missing(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """`nmae: Bob` is one mistake, not two: drop "name is missing" when an unknown field
    beside it is a misspelling of it."""
    unknown = {(tuple(d["loc"][:-1]), str(d["loc"][-1])) for d in details
               if d["type"] == "extra_forbidden"}

    def misspelt(detail: ErrorDetails) -> bool:
        parent, name = tuple(detail["loc"][:-1]), str(detail["loc"][-1])
        typed = [typo for where, typo in unknown if where == parent]
        return bool(difflib.get_close_matches(name, typed, n=1))

    return [d for d in details if not (d["type"] == "missing" and misspelt(d))]


def _problem_from(model: type[BaseModel], data: LocatedDict, detail: ErrorDetails) -> Problem:
    """Turn one pydantic error into a located problem. The input value is never echoed:
    it might be a secret typed in the wrong field."""
    path = tuple(detail["loc"])
    kind = detail["type"]
    dotted = ".".join(str(step) for step in path)
    if kind == "extra_forbidden":
        return _unknown_field(data, path, _allowed_fields(model, path))
    if kind == "missing":
        return Problem(
            rulebook.MISSING_FIELD.id,
            f"required field '{dotted}' is missing; add it",
            data.locate(path[:-1]),
        )
    if kind in rulebook.RULES:
        return Problem(kind, detail["msg"], data.locate(path))
    return Problem(rulebook.WRONG_TYPE.id, _type_message(dotted, str(path[-1]), detail),
                   data.locate(path))


def _type_message(dotted: str, name: str, detail: ErrorDetails) -> str:
    """A wrong type, said with what to write instead."""
    kind, given = detail["type"], detail.get("input")
    if kind in ("bool_type", "bool_parsing"):
        return (f"{dotted} is true or false; write true or false (yes, no, on and off are "
                "text here)")
    if given is None and kind in ("list_type", "dict_type", "model_type"):
        empty = "[]" if kind == "list_type" else "{}"
        return (f"{dotted} is empty; write `{name}: {empty}` for none, or list them under it"
                if kind == "list_type" else f"{dotted} is empty; give its fields, or remove it")
    if kind == "int_parsing":
        return f"{dotted} is a whole number; write digits only (e.g. 3)"
    return f"{dotted}: {detail['msg']}"


def _allowed_fields(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The field names valid at `path`, following nested models (members.0.x, password.x)."""
    current: Any = model
    for step in path[:-1]:
        if isinstance(step, int):
            continue
        field = current.model_fields.get(step)
        models = models_below(field.annotation if field else None)
        if not models:
            return []
        current = models[0][0]
    return list(current.model_fields)


def _unknown_field(data: LocatedDict, path: tuple[Any, ...], allowed: list[str]) -> Problem:
    name = str(path[-1])
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
    return Problem(
        rulebook.UNKNOWN_FIELD.id,
        f"unknown field '{name}'; {hint}",
        data.locate(path, key=True),
    )


def _yaml_type(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "boolean"
    return "plain value" if value is not None else "empty value"
