"""tenant.yaml's `list_download:`: how to read the portal's User Setup "List Download" file.

The file's exact columns are not published (FACTS.md section 11: its screenshot is
missing), so they are data, not code: each field's column header is configured,
defaulting to the portal's own field label from User Setup (the domain page).
Headers are matched ignoring case and spaces. Columns not configured are carried
along untouched: a real export has many.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schema.fields import ShortText

#: Every field a column can hold, with the portal's label for it (User Setup's list and
#: form on the domain page). `password` is the portal password: written in the upload
#: file, never read. `user_type` is carried, not compared: the model has no such field.
DEFAULT_COLUMNS: dict[str, str] = {
    "site": "Site", "extension": "Extension", "name": "Name", "package": "Package",
    "direct_dial_number": "Direct Dial Call Number", "call_barring": "Call Barring",
    "devices": "Device", "portal_id": "Portal ID", "password": "Password",
    "email": "E-mail", "aad_id": "AAD ID", "user_type": "User Type",
    "group_member_type": "Group Member Type", "outgoing_caller_id": "Outgoing Caller ID",
    "mac": "MAC Address",
}
#: What the upload may change (FACTS.md rule 21: names, portal passwords and e-mails);
#: every other column is locked.
EDITABLE = ("name", "email", "password")
REQUIRED = ("extension", "name")

ColumnField = Literal[
    "site", "extension", "name", "package", "direct_dial_number", "call_barring", "devices",
    "portal_id", "password", "email", "aad_id", "user_type", "group_member_type",
    "outgoing_caller_id", "mac"]


class ListDownloadSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    columns: dict[ColumnField, ShortText | None] = Field(
        default_factory=dict,
        description="The header of each field's column where it differs from the portal's "
                    "label (Extension, Name, Site, Package, Device, E-mail, Portal ID, ...); "
                    "null when the file has no such column (the field is then not compared).",
        examples=[{"email": "Email Address", "mac": None}])
    locked: list[ShortText] = Field(
        default_factory=list,
        description="Headers of further columns the upload must not change (coloured in "
                    "the portal's file). Only Name, E-mail and Password are ever written.",
        examples=[["Name"]])
    sheet: ShortText | None = Field(
        None, description="The sheet holding the users, when the file has several.",
        examples=["User List"])
    site: ShortText | None = Field(
        None, description="The site of every row, when the file has no Site column.",
        examples=["Main"])
    hot_desk_device: ShortText = Field(
        "HotDesk User", description="What the Device column says for a hot desk user.",
        examples=["HotDesk User"])
    passwords_shown: bool = Field(
        True, description="Whether the Password column shows which users have a password "
                          "(a set one non-empty). false where the portal's file never does "
                          "(always blank or always masked): every user then counts as "
                          "having one set, so a password in the config is not planned "
                          "again on every run; lift it for the one plan that sets one.",
        examples=[False])
    extension_digits: Annotated[int, Field(ge=2, le=5)] | None = Field(
        None, description="Restore the leading zeros of an extension a spreadsheet stored "
                          "as a number, when every extension has this many digits.",
        examples=[4])
    direct_dial_digits: Annotated[int, Field(ge=2, le=20)] | None = Field(
        None, description="The same for direct dial and outgoing caller ID numbers.",
        examples=[9])

    def headers(self) -> dict[str, str]:
        """Field -> the header its column has in the file (fields without one left out)."""
        merged: dict[str, str | None] = dict(DEFAULT_COLUMNS)
        for name, header in self.columns.items():
            merged[name] = header
        return {name: header for name, header in merged.items() if header is not None}
