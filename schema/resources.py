"""The three resources an administrator declares: users, hot desk users and shared lines.

Field names follow the Customer Manager portal's forms (User > User Setup and
Call Manager > Shared Line). An omitted optional field means "leave the portal's
value alone"; an explicit `null` means "clear it" (see `schema.canonical`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
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
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class _UserFields(_Strict):
    """What User Setup holds for any user, with or without a device of its own."""

    extension: Number
    name: DisplayName
    package: ShortText
    portal_id: PortalId | None = None
    email: Email | None = None
    direct_dial_number: PhoneNumber | None = None
    call_barring: ShortText | None = None
    outgoing_caller_id: PhoneNumber | None = None
    group_member_type: Literal["single_site", "multi_site"] = "single_site"
    aad_id: Email | None = None
    password: PasswordRef | None = None
    # Raise to set the password again: the portal never returns passwords, so a
    # plan cannot see that one differs; this counter is how the config says so.
    password_rotation: RotationCounter | None = None
    # The number this user had before: renumber it in place, keeping memberships.
    previous_extension: Number | None = None


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

    devices: Annotated[list[str], AfterValidator(_at_least_one_device)]
    mac: MacAddress | None = None


def _no_device_of_its_own(value: Any) -> Any:
    raise PydanticCustomError(
        rulebook.HOT_DESK_NO_DEVICE.id,
        "a hot desk user has no device or MAC of its own (it logs in at any hot desk "
        "phone); remove this field, or declare the user under users",
    )


_NotForHotDesk = Annotated[Any, AfterValidator(_no_device_of_its_own)]


class HotDeskUser(_UserFields):
    """A virtual user registered in User Setup; it logs in at any hot desk phone."""

    # Declared only to refuse them with a clear rule rather than "unknown field".
    devices: _NotForHotDesk = Field(default=None, exclude=True)
    mac: _NotForHotDesk = Field(default=None, exclude=True)


class Member(_Strict):
    """A user's appearance on a shared line: which button, and how long to wait to ring."""

    extension: Number
    button: Button | None = None
    ring_delay: RingDelay = 0


class SharedLine(_Strict):
    """A shared line (Call Manager > Shared Line); `number` is the portal's Digit Number."""

    number: Number
    direct_dial_number: PhoneNumber | None = None
    autodial_digit: PhoneNumber | None = None
    forward_to_vm: StrictBool = False
    description: Description | None = None
    members: list[Member] = Field(default_factory=list)
    previous_number: Number | None = None


Resource = User | HotDeskUser | SharedLine
