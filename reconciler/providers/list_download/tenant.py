"""`list-download:///PATH.xlsx` (or `.csv`): the portal's own export as a read-only tenant.

iPECS Cloud publishes no provisioning API; User Setup's List Download is the one
machine-readable view of a real tenant. It shows users and hot desk users, and of
them only the columns it has: the state says so (`visibility`), and the planner
compares nothing else. It can never be written: `write_refusal` names the two ways
to change the real tenant.

The file carries no marker of what this tool made: a row the tree declares counts
as managed, and one it never declared was made in the portal (`owned_as_declared`):
shown as such and left alone, deleted only if its site prunes. The portal never
shows a password: a non-empty Password cell means one is set (from a source this
tool cannot know), an empty one that none is.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from reconciler.providers.list_download import cells
from reconciler.providers.list_download.columns import (
    ColumnMap,
    map_columns,
    normal,
    require_columns,
)
from reconciler.providers.list_download.workbook import (
    Cell,
    Sheet,
    SpreadsheetError,
    read_sheet,
)
from reconciler.providers.lock_holders import LockHolder
from reconciler.providers.tenant_tables import TenantDump
from reconciler.runtime.errors import ReconcilerError
from schema.list_download_settings import ListDownloadSettings
from schema.settings import TenantSettings
from schema.state import (
    UNKNOWN_PASSWORD_SOURCE,
    Fields,
    Kind,
    NewPassword,
    ResourceKey,
    TenantFacts,
    TenantIdentity,
    TenantState,
    Visibility,
)
from schema.visibility import comparable_fields

#: columns that are not fields of a resource: where it is, what it is, its password
_NOT_FIELDS = {"site", "extension", "password", "user_type"}
_NUMBERS = {"direct_dial_number": "direct_dial_digits", "outgoing_caller_id":
            "direct_dial_digits"}


@dataclass(frozen=True, slots=True)
class Layout:
    sheet: str
    columns: ColumnMap
    #: extension (as compared, zeros restored) -> its row's number in the sheet
    rows: dict[str, int]
    #: the file's size and change time when it was read
    stamp: tuple[int, int] | None


def _passwords_shown(settings: ListDownloadSettings, columns: ColumnMap) -> bool:
    """Whether the Password column tells which users have a password. Without one, or
    where the portal never shows it (`list_download.passwords_shown: false`: a column
    always blank or always masked), every user counts as having one set from
    somewhere unknown, so a password in the config is not planned again on every run
    (lift the setting for the one plan that sets one: the file shows no
    password_rotation to raise). A file alone cannot tell "never shown" from "nobody
    has one yet", so it is the setting's to say."""
    return "password" in columns.by_field and settings.passwords_shown


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None  # read_sheet says what is wrong
    return info.st_size, info.st_mtime_ns


class ListDownloadTenant:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or len(path) < 2:
            raise SpreadsheetError(f"a List Download URL is list-download:///PATH.xlsx "
                                   f"(relative) or list-download:////abs/PATH.xlsx, not {url!r}")
        self.path = Path(path[1:])
        self.url = url
        self.description = f"List Download file {self.path}"
        self._tenant = parse_qs(parts.query).get("tenant", [None])[0]
        self._settings = ListDownloadSettings()
        self._state: TenantState | None = None
        self._layout: Layout | None = None

    # --- reading ----------------------------------------------------------------------
    @property
    def settings(self) -> ListDownloadSettings:
        return self._settings

    def configure(self, settings: TenantSettings) -> None:
        if settings.list_download != self._settings:
            self._settings, self._state, self._layout = settings.list_download, None, None

    def bind(self, tenant: str) -> None:
        pass  # the file holds one tenant; ?tenant= says whose, when given

    def exists(self) -> bool:
        return True  # a missing file is an error when it is read, naming it

    def layout(self) -> Layout:
        """Where the state was read from in the file: what the upload file is made with.
        Only this is kept, not the cells: a large download's cells are hundreds of MB."""
        self.read_state()
        assert self._layout is not None
        return self._layout

    def read_state(self) -> TenantState:
        if self._state is None:
            self._state = self._read()
        return self._state

    def _read(self) -> TenantState:
        stamp = _stamp(self.path)
        sheet = read_sheet(self.path, self._settings.sheet)
        columns = map_columns(self.path, sheet, self._settings)
        require_columns(self.path, sheet, columns, self._settings)
        identity = (TenantIdentity(self._tenant, "list-download", "")
                    if self._tenant else None)
        visibility = self._visibility(columns)
        state = TenantState(identity=identity, visibility=visibility)
        where: dict[str, str] = {}
        rows: dict[str, int] = {}
        shown = _passwords_shown(self._settings, columns)
        for number, row in enumerate(sheet.rows, start=2):
            if all(cell.value is None or str(cell.value).strip() == "" for cell in row):
                continue
            key, fields, password_set = self._resource(row, number, columns, sheet,
                                                       visibility)
            if key.number in where:
                raise SpreadsheetError(f"{row[columns.by_field['extension']].ref}: extension "
                                       f"{key.number} is also at {where[key.number]}; the "
                                       "portal holds each number once")
            where[key.number] = row[columns.by_field["extension"]].ref
            rows[key.number] = number
            state.resources[key] = fields
            if password_set or not shown:
                state.password_from[key] = UNKNOWN_PASSWORD_SOURCE
        self._layout = Layout(sheet.name, columns, rows, stamp)
        return state

    def _resource(self, row: tuple[Cell, ...], row_number: int, columns: ColumnMap,
                  sheet: Sheet,
                  visibility: Visibility) -> tuple[ResourceKey, Fields, bool]:
        def cell(name: str) -> Cell:
            index = columns.by_field[name]
            return row[index] if index < len(row) else Cell(None, sheet.name, row_number, index)

        number = cells.digits(cell("extension"), "extension",
                              self._settings.extension_digits, "extension_digits")
        if number is None:
            raise SpreadsheetError(f"{cell('extension').ref}: the extension is empty; every "
                                   "row of a List Download is a user with an extension")
        site = (cells.text(cell("site"), "site") if "site" in columns.by_field
                else self._settings.site)
        if site is None:
            raise SpreadsheetError(
                f"{cell('extension').ref}: extension {number} has no site: the file has no "
                "Site column (or the cell is empty); set list_download.site in tenant.yaml")
        device = cells.text(cell("devices"), "device") if "devices" in columns.by_field \
            else None
        hot_desk = device is not None and normal(device) == normal(
            self._settings.hot_desk_device)
        kind = Kind.HOT_DESK_USER if hot_desk else Kind.USER
        fields: Fields = {name: self._value(name, cell(name))
                          for name in visibility.fields[kind]}
        password = ("password" in columns.by_field
                    and cells.text(cell("password"), "password") is not None)
        return ResourceKey(site, kind, number), fields, password

    def _value(self, name: str, cell: Cell) -> object:
        label = name.replace("_", " ")
        if name == "devices":
            return cells.devices(cell, label)
        if name == "group_member_type":
            return cells.member_type(cell, label)
        if name == "mac":
            return cells.mac(cell, label)
        if name in _NUMBERS:
            restore = getattr(self._settings, _NUMBERS[name])
            return cells.digits(cell, label, restore, _NUMBERS[name])
        return cells.text(cell, label)

    def _visibility(self, columns: ColumnMap) -> Visibility:
        present = set(columns.by_field) - _NOT_FIELDS
        shown = {kind: frozenset(present & comparable_fields(kind))
                 for kind in (Kind.USER, Kind.HOT_DESK_USER)}
        return Visibility(self.description, shown)

    # --- never writing ----------------------------------------------------------------
    def unchanged_since_read(self) -> bool:
        stamp = self.layout().stamp
        return stamp is not None and _stamp(self.path) == stamp

    def write_refusal(self) -> str:
        return (f"{self.description} is the portal's own export, a read-only view of the "
                "real tenant: nothing here can change it. To change the real tenant, follow "
                f"the runbook (`reconcile plan --tenant '{self.url}' --format runbook`) in "
                "the portal, and for names, e-mails and portal passwords upload the file "
                f"that `reconcile plan --tenant '{self.url}' --format list-upload --out "
                "edits.xlsx` writes, in User Setup; then download the list again and plan: "
                "it should be empty")

    def _refuse(self) -> ReconcilerError:
        return ReconcilerError(self.write_refusal())

    def initialise(self, facts: TenantFacts, name: str) -> str | None:
        raise self._refuse()

    def lock(self, timeout: float = 0.0) -> AbstractContextManager[None]:
        return nullcontext()  # nothing is written, so there is nothing to hold

    def lock_holder(self) -> LockHolder | None:
        return None

    def begin_apply(self, plan_checksum: str, total_steps: int, started_by: str) -> None:
        raise self._refuse()

    def finish_apply(self) -> None:
        raise self._refuse()

    def create(self, key: ResourceKey, fields: Fields, password: NewPassword | None, *,
               step: int | None = None) -> None:
        raise self._refuse()

    def update(self, key: ResourceKey, fields: Fields, password: NewPassword | None,
               adopt: bool = False, *, step: int | None = None) -> None:
        raise self._refuse()

    def renumber(self, key: ResourceKey, number: str, heading_for: str | None = None, *,
                 step: int | None = None) -> None:
        raise self._refuse()

    def delete(self, key: ResourceKey, *, step: int | None = None) -> None:
        raise self._refuse()

    def rename(self, old: str, new: str) -> None:
        raise self._refuse()

    def set_facts(self, facts: TenantFacts) -> None:
        raise self._refuse()

    def schema_version(self) -> int | None:
        return None

    def latest_schema(self) -> int:
        return 0

    def pending_migration(self) -> list[str]:
        return []

    def dump(self) -> TenantDump:
        raise ReconcilerError(f"{self.description} cannot be copied: it holds no identities, "
                              "passwords or journal; import it instead (reconcile import)")

    def restore(self, rows: TenantDump) -> None:
        raise self._refuse()

    def check_integrity(self) -> list[str]:
        return []

    def close(self) -> None:
        pass
