"""Writing a tenant's resources as a sites/ tree: what `reconcile import` produces.

One file per site and kind (`Main/users.yaml`, `Main/hot-desk-users.yaml`,
`Main/shared-lines.yaml`), each resource's fields in the portal form's order,
every text value quoted (numbers keep their leading zeros), and nothing the
tenant does not hold: a field the tenant has no value for is left out, which
the loader reads as "the portal's business". Passwords are never written; a
comment says how to add a reference, naming the variable the tenant recorded
when this tool last set one.

The output is plain text built here rather than by a YAML dumper, so that its
shape (quoting, flow lists, comments) is fixed and reviewable in a pull request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from reconciler.loading.config_tree import TENANT_FILE
from schema import kinds
from schema.canonical import IDENTITY_FIELDS, WRITE_ONLY_FIELDS
from schema.devices import desk_phones
from schema.list_download_settings import ListDownloadSettings
from schema.state import Fields, Kind, ResourceKey, TenantFacts, TenantState

#: Fields tied to the password, which is never imported.
_WITH_PASSWORD = {"password_rotation"}
_FORBIDDEN_SITE_NAMES = {"", ".", ".."}
_YAML_BREAKS = "\x85\u2028\u2029\ufeff"


@dataclass(frozen=True, slots=True)
class WrittenTree:
    """The files of an imported tree (path relative to the tree -> text), and what
    they hold."""

    files: dict[str, str]
    resources: dict[ResourceKey, Fields]
    sites: tuple[str, ...]


#: The editor schema each file names, as the example tree does: `reconcile schema
#: --write schema` beside the sites/ folder (docs/commands.md, "Checked as you type").
SITE_SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/site-file.schema.json\n"
TENANT_SCHEMA_LINE = "# yaml-language-server: $schema=../schema/tenant-file.schema.json\n"


def write_tree(state: TenantState, name: str, chosen: Callable[[str], bool],
               secret_prefix: str, list_download: ListDownloadSettings | None = None
               ) -> WrittenTree:
    """The sites/ tree that declares `state`'s resources of the chosen sites. A view that
    shows no facts (a List Download) gets a tenant.yaml saying which values to check,
    and the `list_download:` settings it was read with."""
    if state.facts is not None:
        files = {TENANT_FILE: TENANT_SCHEMA_LINE + _tenant_file(name, state.facts)}
    elif state.visibility is not None:
        files = {TENANT_FILE: TENANT_SCHEMA_LINE
                 + _tenant_file(name, _facts_in_use(state), guessed=True)
                 + _list_download_settings(list_download)}
    else:
        raise ValueError("the tenant holds no facts (platform, licences, packages)")
    by_site: dict[str, dict[kinds.KindDescription, list[ResourceKey]]] = {}
    resources = {key: fields for key, fields in state.resources.items() if chosen(key.site)}
    for key in resources:
        unsafe = site_name_problem(key.site)
        if unsafe:
            raise ValueError(f"site {json.dumps(key.site)} {unsafe}")
        by_site.setdefault(key.site, {}).setdefault(kinds.describe(key.kind), []).append(key)
    for site, of_kind in sorted(by_site.items()):
        for description, keys in of_kind.items():
            body = [_resource(description, key, resources[key], state, secret_prefix)
                    for key in sorted(keys, key=lambda k: (len(k.number), k.number))]
            files[f"{site}/{file_name(description)}"] = (
                f"{SITE_SCHEMA_LINE}# {description.portal_menu}: the {description.plural} of "
                f"site {site}, as imported.\n{description.list_name}:\n" + "\n".join(body))
    return WrittenTree(files, resources, tuple(sorted(by_site)))


def portal_order(description: kinds.KindDescription) -> list[str]:
    """The kind's fields in the order of its portal form, then any the form does not
    show, in the model's order."""
    model_fields = list(description.model.model_fields)
    on_form = [name for name, _ in description.portal_form if name in model_fields]
    return on_form + [name for name in model_fields if name not in on_form]


def file_name(description: kinds.KindDescription) -> str:
    return description.list_name.replace("_", "-") + ".yaml"


def site_name_problem(site: str) -> str | None:
    """Why a site name cannot be a folder of the tree, if it cannot."""
    if site in _FORBIDDEN_SITE_NAMES or "/" in site or "\\" in site or "\0" in site:
        return "cannot be a folder name"
    if site.startswith(".") or site.endswith(("~", ".swp", ".swo")) or site.startswith("#"):
        return "would be a folder the config tree ignores (hidden or an editor backup)"
    return None


def _tenant_file(name: str, facts: TenantFacts, guessed: bool = False) -> str:
    packages = "".join(f"  {_scalar(package)}: {seats}\n"
                       for package, seats in facts.packages.items())
    check = "   # NOT in the file: check it in the portal" if guessed else ""
    head = ("# Imported from a List Download file, which shows no platform version, licences\n"
            "# or seats: the values marked below are placeholders that let the tree\n"
            "# validate (seats: the users on each package). Set the tenant's real ones.\n"
            if guessed else "")
    return (
        head +
        "# Imported from the tenant by `reconcile import`. Feature codes are not held by\n"
        "# the tenant: add this customer's (feature_codes: {name: code}) so that no\n"
        "# extension collides with one.\n"
        f"tenant: {_scalar(name)}\n"
        f"platform_version: {_scalar(facts.platform_version)}{check}\n"
        f"licences:{check}\n"
        f"  shared_lines: {facts.shared_line_licences}\n"
        f"  shared_licensing: {_scalar(facts.shared_licensing)}\n"
        + (f"packages:                   # in upgrade order{check}\n" + packages if packages
           else "packages: {}\n"))


def _facts_in_use(state: TenantState) -> TenantFacts:
    """Placeholders for a view without facts: 6.0 (hot desk users in User Setup), no
    shared-line licences (no shared lines shown), and as many seats as are in use."""
    packages: dict[str, int] = {}
    for fields in state.resources.values():
        package = fields.get("package")
        if isinstance(package, str):
            packages[package] = packages.get(package, 0) + 1
    return TenantFacts("6.0", 0, False, packages)


def _list_download_settings(settings: ListDownloadSettings | None) -> str:
    """How the file was read, when not with the portal's labels: the next plan must read
    it the same way."""
    changed = settings.model_dump(exclude_defaults=True) if settings is not None else {}
    if not changed:
        return ""
    return "list_download:\n" + "".join(
        f"  {line}\n" for line in yaml.safe_dump(changed, sort_keys=False,
                                                 allow_unicode=True).splitlines())


def resource_entry(description: kinds.KindDescription, key: ResourceKey, fields: Fields,
                   state: TenantState, secret_prefix: str) -> str:
    """One resource as an item of its kind's list, as `import` writes it."""
    return _resource(description, key, fields, state, secret_prefix)


def value_text(name: str, value: object) -> str:
    """A field's value as YAML on one line, quoted as `import` quotes it; None is null."""
    if value is None:
        return "null"
    if name == "members" and isinstance(value, dict):
        return "[" + ", ".join(line.strip().removeprefix("- ") for line in
                               _members(value)[1:]) + "]"
    return _value(value)


def _resource(description: kinds.KindDescription, key: ResourceKey, fields: Fields,
              state: TenantState, secret_prefix: str) -> str:
    lines = [f"  - {description.number_field}: {_scalar(key.number)}"]
    skipped = IDENTITY_FIELDS | WRITE_ONLY_FIELDS | _WITH_PASSWORD
    for name in portal_order(description):
        value = fields.get(name)
        if name in skipped or value is None:
            continue
        if name == "members":
            lines += _members(value)
        else:
            lines.append(f"    {name}: {_value(value)}")
    if _mac_unknown(key, fields, state):
        lines.append("    # mac: the desk phone's MAC: not in the List Download, and a desk "
                     "phone with a client needs it")
    if description.takes_seat:
        lines += _password_comment(key, fields, state, secret_prefix)
    if key not in state.managed:
        lines.append("    # made by hand: declaring it adopts it (see "
                     "docs/plans-and-guarantees.md, Ownership)")
    return "\n".join(lines) + "\n"


def _members(members: dict[str, dict[str, object]]) -> list[str]:
    if not members:
        return ["    members: []"]
    lines = ["    members:"]
    for extension, member in sorted(members.items(), key=lambda m: (len(m[0]), m[0])):
        parts = [f"extension: {_scalar(extension)}"]
        parts += [f"{name}: {_scalar(value)}" for name, value in member.items()
                  if value is not None]
        lines.append(f"      - {{{', '.join(parts)}}}")
    return lines


def _mac_unknown(key: ResourceKey, fields: Fields, state: TenantState) -> bool:
    view = state.visibility
    return (view is not None and key.kind is Kind.USER and "mac" not in view.fields[key.kind]
            and bool(desk_phones(fields.get("devices") or [])))


def _password_comment(key: ResourceKey, fields: Fields, state: TenantState,
                      secret_prefix: str) -> list[str]:
    source = state.password_from.get(key, "")
    if state.visibility is not None and source:
        variable = f"{secret_prefix}{key.number}"
        return [f"    # a portal password is set; to manage it: password: {{env: {variable}}}"]
    rotation = fields.get("password_rotation")
    if source.startswith("$"):
        lines = [f"    # password: {{env: {source[1:]}}}   # set from this variable before; "
                 "add it back to keep setting it"]
        if rotation is not None:
            lines.append(f"    # password_rotation: {rotation}")
        return lines
    variable = f"{secret_prefix}{key.number}"
    return [f"    # passwords are never imported; to set one: password: {{env: {variable}}}"]


def _value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    return _scalar(value)


def _scalar(value: object) -> str:
    """A YAML scalar that reads back as exactly this value: text is always quoted, so
    `0997` stays text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _quoted(str(value))


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar. Anything YAML would fold, refuse or read as a line
    break (controls, U+0085, U+2028, U+2029, a byte-order mark) is escaped."""
    out = ['"']
    for character in text:
        code = ord(character)
        if character in '"\\':
            out.append("\\" + character)
        elif character.isprintable() and character not in _YAML_BREAKS:
            out.append(character)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
