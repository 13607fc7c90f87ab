"""Field types shared by the resource models, each failing with a rule identifier.

Errors are raised as `PydanticCustomError(rule_id, message)` so the loader can
print the rule next to the message without parsing pydantic's text.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from schema import rulebook

_NUMBER = re.compile(r"[0-9]{2,5}")
_PHONE = re.compile(r"\+?[0-9]{2,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PORTAL_ID = re.compile(r"[^@\s]+@[^@\s]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:.-]?[0-9A-Fa-f]{2}){5}")
_FEATURE_CODE = re.compile(r"[0-9]{1,5}")


def _fail(rule: rulebook.Rule, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(rule.id, message, context or None)


def _number(value: str) -> str:
    if not _NUMBER.fullmatch(value):
        raise _fail(
            rulebook.NUMBER_FORMAT,
            "'{value}' is not a 2-5 digit number; write digits only, "
            "and quote it if it has leading zeros that matter, e.g. \"0901\"",
            value=value,
        )
    return value


def _phone(value: str) -> str:
    if not _PHONE.fullmatch(value):
        raise _fail(
            rulebook.PHONE_NUMBER_FORMAT,
            "'{value}' is not a phone number; use digits only, optionally starting with +",
            value=value,
        )
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise _fail(
            rulebook.EMAIL_FORMAT,
            "'{value}' is not an e-mail address; write it as name@example.com or leave it out",
            value=value,
        )
    return value


def _portal_id(value: str) -> str:
    if not _PORTAL_ID.fullmatch(value):
        raise _fail(
            rulebook.PORTAL_ID_FORMAT,
            "portal ID '{value}' is not of the form login@domain (the portal shows e.g. "
            "0901@35.com)",
            value=value,
        )
    return value


def _name(value: str) -> str:
    if not value.strip():
        raise _fail(rulebook.NAME_EMPTY, "name is empty; give the name shown on the phone")
    return value


def _version(value: str) -> str:
    if not _VERSION.fullmatch(value):
        raise _fail(
            rulebook.PLATFORM_VERSION_FORMAT,
            "platform_version '{value}' is not a dotted version; write it quoted, e.g. \"6.0\"",
            value=value,
        )
    return value


def _mac(value: str) -> str:
    """Accept 001A2B3C4D5E, 00:1a:2b:3c:4d:5e or 00-1A-...; keep one spelling so
    that rewriting a MAC in another style is not a change."""
    if not _MAC.fullmatch(value):
        raise _fail(
            rulebook.MAC_FORMAT,
            "'{value}' is not a MAC address; write its 12 hex digits, e.g. 001A2B3C4D5E",
            value=value,
        )
    return re.sub(r"[:.-]", "", value).upper()


def _feature_code(value: str) -> str:
    if not _FEATURE_CODE.fullmatch(value):
        raise _fail(
            rulebook.FEATURE_CODE_FORMAT,
            "feature code '{value}' is not 1-5 digits; copy it from the portal, quoted",
            value=value,
        )
    return value


def _ring_delay(value: int) -> int:
    if not 0 <= value <= 30 or value % 3:
        raise _fail(
            rulebook.RING_DELAY_STEP,
            "ring_delay {value} is not allowed; use 0 to 30 seconds in steps of 3 "
            "(0, 3, 6, ... 30)",
            value=value,
        )
    return value


def _button(value: int) -> int:
    if value < 1:
        raise _fail(rulebook.BUTTON_RANGE, "button {value} is not a button; number buttons from 1",
                    value=value)
    return value


def _no_inline_secret(value: Any) -> Any:
    # The message never repeats the value: it is a password someone just committed.
    if isinstance(value, str):
        raise _fail(
            rulebook.INLINE_PASSWORD,
            "password is written inline; never commit a password, write "
            "`password: {env: VARIABLE_NAME}` and export the variable where apply runs",
        )
    return value


Number = Annotated[str, AfterValidator(_number)]
PhoneNumber = Annotated[str, AfterValidator(_phone)]
Email = Annotated[str, AfterValidator(_email)]
PortalId = Annotated[str, AfterValidator(_portal_id)]
DisplayName = Annotated[str, AfterValidator(_name)]
PlatformVersion = Annotated[str, AfterValidator(_version)]
RingDelay = Annotated[int, AfterValidator(_ring_delay)]
MacAddress = Annotated[str, AfterValidator(_mac)]
FeatureCode = Annotated[str, AfterValidator(_feature_code)]
Button = Annotated[int, AfterValidator(_button)]


class SecretRef(BaseModel):
    """Where a secret comes from at apply time; the value itself is never stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: Annotated[str, AfterValidator(lambda v: _env_name(v))]

    def describe(self) -> str:
        return f"${self.env}"


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise _fail(
            rulebook.WRONG_TYPE,
            "'{value}' is not an environment variable name (letters, digits, _)",
            value=value,
        )
    return value


PasswordRef = Annotated[SecretRef, BeforeValidator(_no_inline_secret)]


MIN_PASSWORD, MAX_PASSWORD = 8, 15


def password_length_problem(length: int) -> str | None:
    """Why a password of this length is refused, or None. Takes the length, never
    the password, so no caller can put the value in a message by mistake."""
    if MIN_PASSWORD <= length <= MAX_PASSWORD:
        return None
    return (f"is {length} characters; the portal accepts {MIN_PASSWORD} to {MAX_PASSWORD} "
            f"[{rulebook.PASSWORD_LENGTH.id}]")


def version_tuple(version: str) -> tuple[int, ...]:
    """'6.0' -> (6, 0), so versions compare as numbers ('10.0' > '9.1')."""
    return tuple(int(part) for part in version.split("."))
