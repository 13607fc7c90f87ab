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


def version_tuple(version: str) -> tuple[int, ...]:
    """'6.0' -> (6, 0), so versions compare as numbers ('10.0' > '9.1')."""
    return tuple(int(part) for part in version.split("."))
