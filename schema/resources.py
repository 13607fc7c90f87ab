"""The three resources an administrator declares: users, hot desk users and shared lines.

Field names follow the Customer Manager portal's forms (User > User Setup and
Call Manager > Shared Line). An omitted optional field means "leave the portal's
value alone"; an explicit `null` means "clear it" (see `schema.canonical`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from schema import rulebook
from schema.fields import (
    Button,
    Description,
    DisplayName,
    Email,
    MacAddress,
    Number,
    PasswordRef,
    PhoneNumber,
    PortalId,
    RingDelay,
    RotationCounter,
    ShortText,
)


class _Strict(BaseModel):
    # defer_build (here and on every model of schema/): a validator is built when first
    # used, not at import. A warm plan restores models from the cache and never
    # validates them, so it never pays for building their validators (BENCHMARKS.md).
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True, strict=False)


class _UserFields(_Strict):
    """What User Setup holds for any user, with or without a device of its own."""

    extension: Number = Field(
        description="Extension (User Setup): 2 to 5 digits, quoted so that leading zeros "
                    "stay. Unique across users, hot desk users and shared lines, and no "
                    "number may start another.", examples=["0997"])
    name: DisplayName = Field(description="Name shown on phones and in the portal.",
                              examples=["Ann Lee"])
    package: ShortText = Field(
        description="User pack (Package), one of tenant.yaml's packages; it takes a seat. "
                    "A package can be upgraded in place, never downgraded.",
        examples=["Empty User Pack"])
    portal_id: PortalId | None = Field(
        None, description="Portal ID: the login for the Customer User portal, login@domain.",
        examples=["0901@35.com"])
    email: Email | None = Field(None, description="E-mail address, or leave out.",
                                examples=["ann@example.com"])
    direct_dial_number: PhoneNumber | None = Field(
        None, description="Direct Dial Call Number (DDI) that rings this user; one "
                          "destination per number.", examples=["024801027"])
    call_barring: ShortText | None = Field(
        None, description="Call Barring rule set by name (all destinations are barred but "
                          "what the rule allows).", examples=["common"])
    outgoing_caller_id: PhoneNumber | None = Field(
        None, description="Outgoing Caller ID: the number callers see.",
        examples=["024801027"])
    group_member_type: Literal["single_site", "multi_site"] = Field(
        "single_site", description="Group Member Type: multi_site lets the user join shared "
                                   "lines of other sites.", examples=["single_site"])
    aad_id: Email | None = Field(
        None, description="AAD ID: the Azure AD account the user logs in with (platform "
                          "5.0+); each account once per tenant.", examples=["ann@contoso.com"])
    password: PasswordRef | None = Field(
        None, description="Portal password, never written here: the environment variable "
                          "that holds it where apply runs. Write-only: a plan cannot see "
                          "it, so it is set when added, when the variable changes, or when "
                          "password_rotation is raised.",
        examples=[{"env": "RECONCILER_PW_0997"}])
    # Raise to set the password again: the portal never returns passwords, so a
    # plan cannot see that one differs; this counter is how the config says so.
    password_rotation: RotationCounter | None = Field(
        None, description="Raise by one to set the same password variable again.",
        examples=[1])
    # The number this user had before: renumber it in place, keeping memberships.
    previous_extension: Number | None = Field(
        None, description="The extension this user has now, when renumbering it to "
                          "`extension` in place (memberships and history are kept). Remove "
                          "it once applied.", examples=["0965"])


def _at_least_one_device(devices: list[str]) -> list[str]:
    if not devices:
        raise PydanticCustomError(
            rulebook.USER_NEEDS_DEVICE.id,
            "a user needs at least one device; a user without a device of its own "
            "belongs under hot_desk_users",
        )
    return devices


class User(_UserFields):
    """A hard-phone user: an extension with devices of its own."""

    devices: Annotated[list[str], AfterValidator(_at_least_one_device)] = Field(
        description="Device section of User Setup: the phone model and any clients, e.g. a "
                    "desk phone plus iPECS One (a multi-client user, which needs mac).",
        examples=[["1030", "iPECS One Premium"]])
    mac: MacAddress | None = Field(
        None, description="MAC Address of the desk phone: 12 hex digits.",
        examples=["001A2B3C4D5E"])


def _no_device_of_its_own(value: Any) -> Any:
    raise PydanticCustomError(
        rulebook.HOT_DESK_NO_DEVICE.id,
        "a hot desk user has no device or MAC of its own (it logs in at any hot desk "
        "phone); remove this field, or declare the user under users",
    )


_NotForHotDesk = Annotated[Any, AfterValidator(_no_device_of_its_own)]


class HotDeskUser(_UserFields):
    """A virtual user registered in User Setup; it logs in at any hot desk phone."""

    # Declared only to refuse them with a clear rule rather than "unknown field"; an
    # editor's schema leaves them out, so it flags them too.
    devices: SkipJsonSchema[_NotForHotDesk] = Field(default=None, exclude=True)
    mac: SkipJsonSchema[_NotForHotDesk] = Field(default=None, exclude=True)


class Member(_Strict):
    """A user's appearance on a shared line: which button, and how long to wait to ring."""

    extension: Number = Field(description="The member: a user or (platform 6.0, Shared "
                                          "licensing) a hot desk user.", examples=["0901"])
    button: Button | None = Field(None, description="The button the line appears on.",
                                  examples=[1])
    ring_delay: RingDelay = Field(0, description="Ring Option: seconds before this member "
                                                 "rings, 0 to 30 in steps of 3 (platform "
                                                 "4.0+).", examples=[0])


class SharedLine(_Strict):
    """A shared line (Call Manager > Shared Line); `number` is the portal's Digit Number."""

    number: Number = Field(description="Digit Number: 2 to 5 digits, quoted; in the same "
                                       "numbering plan as extensions. Takes a shared-line "
                                       "licence.", examples=["555"])
    direct_dial_number: PhoneNumber | None = Field(
        None, description="Direct Dial Call Number that rings this line.",
        examples=["024801028"])
    autodial_digit: PhoneNumber | None = Field(None, description="AutoDial Digit.",
                                               examples=["12345"])
    forward_to_vm: StrictBool = Field(False, description="Forward to VM: unanswered calls go "
                                                         "to voice mail.", examples=[False])
    description: Description | None = Field(None, description="Description.",
                                            examples=["Reception"])
    members: list[Member] = Field(default_factory=list,
                                  description="Members, each once, with its button.",
                                  examples=[[{"extension": "0901", "button": 1}]])
    previous_number: Number | None = Field(
        None, description="The number this line has now, when renumbering it to `number` in "
                          "place. Remove it once applied.", examples=["3748"])


Resource = User | HotDeskUser | SharedLine
