"""A List Download cell's value as the tenant holds it, or an error naming the cell.

Spreadsheets turn `0997` into the number 997, a long direct dial number into
2.4801028E8, and a pasted date into a date. Text cells are read as text. A number
where a number of digits is expected is an error naming the cell, unless the
configured count of digits restores the leading zeros without doubt; a date, a
formula or a boolean there is always one.
"""

from __future__ import annotations

import datetime
import re

from reconciler.providers.list_download.workbook import Cell, SpreadsheetError
from schema.devices import in_portal_order

_DIGITS = re.compile(r"[0-9]+")
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:.-]?[0-9A-Fa-f]{2}){5}")
_NONE = {"", "none"}  # how the portal's form shows an unset direct dial number
#: the portal's labels for Group Member Type (User Setup's form), and the model's values
_MEMBER_TYPES = {"singlesitegroupmembers": "single_site", "single_site": "single_site",
                 "multisitegroupmembers": "multi_site", "multi_site": "multi_site"}


def _formula_or_date(cell: Cell, what: str) -> None:
    if cell.formula:
        raise SpreadsheetError(f"{cell.ref}: the {what} is a formula ({cell.value}); a List "
                               "Download holds values: paste the values instead")
    if isinstance(cell.value, datetime.datetime | datetime.date | datetime.time):
        raise SpreadsheetError(f"{cell.ref}: the {what} is a date ({cell.value}), which the "
                               "spreadsheet made of what was typed; format the column as "
                               "text and type it again")
    if isinstance(cell.value, bool):
        raise SpreadsheetError(f"{cell.ref}: the {what} is TRUE/FALSE, not a value the "
                               "portal writes")


def text(cell: Cell, what: str) -> str | None:
    """A text field: None when empty (or only spaces); a number stored by the spreadsheet
    as its digits. Text is read exactly as the file holds it, spaces included: a name
    the config gives with a leading space, uploaded, must read back the same, or every
    later plan would change it again."""
    _formula_or_date(cell, what)
    value = cell.value
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = str(value)
    return shown if shown.strip() else None


def digits(cell: Cell, what: str, restore_to: int | None, setting: str) -> str | None:
    """A number that is text of digits (an extension, a direct dial number)."""
    _formula_or_date(cell, what)
    value = cell.value
    if value is None or (isinstance(value, str) and value.strip().casefold() in _NONE):
        return None
    if isinstance(value, str):
        shown = value.strip()
        if not _DIGITS.fullmatch(shown):
            raise SpreadsheetError(f"{cell.ref}: the {what} {shown!r} is not digits")
        return shown
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        written = str(value)
        if restore_to is not None and len(written) <= restore_to:
            return written.zfill(restore_to)
        why = (f"it has more digits than list_download.{setting} ({restore_to})"
               if restore_to is not None else
               f"any leading zeros are lost; format the column as text and type the "
               f"numbers again, or, if every {what} has the same number of digits, set "
               f"list_download.{setting} in tenant.yaml")
        raise SpreadsheetError(f"{cell.ref}: the {what} is stored as the number {written}, "
                               f"not as text: {why}")
    raise SpreadsheetError(f"{cell.ref}: the {what} {value!r} is not a whole number of digits")


def devices(cell: Cell, what: str) -> list[str]:
    shown = text(cell, what)
    return in_portal_order([d.strip() for d in shown.split(",") if d.strip()]) if shown else []


def mac(cell: Cell, what: str) -> str | None:
    """In the one spelling the config's MACs are compared in (12 upper-case hex digits)."""
    shown = text(cell, what)
    if shown is None or not _MAC.fullmatch(shown):
        return shown
    return re.sub(r"[:.-]", "", shown).upper()


def member_type(cell: Cell, what: str) -> str | None:
    shown = text(cell, what)
    if shown is None:
        return None
    value = _MEMBER_TYPES.get("".join(shown.split()).casefold())
    if value is None:
        raise SpreadsheetError(f"{cell.ref}: the {what} {shown!r} is neither \"Single site "
                               "group members\" nor \"Multi site group members\"")
    return value

