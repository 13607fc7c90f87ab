"""Field types shared by the resource models, each failing with a rule identifier.

Errors are raised as `PydanticCustomError(rule_id, message)` so the loader can
print the rule next to the message without parsing pydantic's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from schema import rulebook
from schema.printable import control_characters


def _fail(rule: rulebook.Rule, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(rule.id, message, context or None)


def _matching(pattern: str, rule: rulebook.Rule, message: str) -> Callable[[str], str]:
    """A validator accepting strings that match `pattern` whole; `{value}` in the
    message names the offending value."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _fail(rule, message, value=value)
        return value

    return check


_number = _matching(
    r"[0-9]{2,5}", rulebook.NUMBER_FORMAT,
    "'{value}' is not a 2-5 digit number; write digits only, "
    "and quote it if it has leading zeros that matter, e.g. \"0901\"")
_phone = _matching(
    r"\+?[0-9]{2,20}", rulebook.PHONE_NUMBER_FORMAT,
    "'{value}' is not a phone number; use digits only, optionally starting with +")
_email = _matching(
    r"[^@\s]+@[^@\s]+\.[^@\s]+", rulebook.EMAIL_FORMAT,
    "'{value}' is not an e-mail address; write it as name@example.com or leave it out")
_portal_id = _matching(
    r"[^@\s]+@[^@\s]+", rulebook.PORTAL_ID_FORMAT,
    "portal ID '{value}' is not of the form login@domain (the portal shows e.g. 0901@35.com)")
_version = _matching(
    r"[0-9]+(\.[0-9]+)*", rulebook.PLATFORM_VERSION_FORMAT,
    "platform_version '{value}' is not a dotted version; write it quoted, e.g. \"6.0\"")
_feature_code = _matching(
    r"[0-9]{1,5}", rulebook.FEATURE_CODE_FORMAT,
    "feature code '{value}' is not 1-5 digits; copy it from the portal, quoted")
_mac_format = _matching(
    r"[0-9A-Fa-f]{2}([:.-]?[0-9A-Fa-f]{2}){5}", rulebook.MAC_FORMAT,
    "'{value}' is not a MAC address; write its 12 hex digits, e.g. 001A2B3C4D5E")
_env_name = _matching(
    r"[A-Za-z_][A-Za-z0-9_]*", rulebook.WRONG_TYPE,
    "env must name an environment variable (letters, digits and _, not starting with a "
    "digit), such as RECONCILER_PW_0997; what is written here is not shown, in case it is "
    "the password itself")


def _mac(value: str) -> str:
    """Accept 001A2B3C4D5E, 00:1a:2b:3c:4d:5e or 00-1A-...; keep one spelling so
    that rewriting a MAC in another style is not a change."""
    return re.sub(r"[:.-]", "", _mac_format(value)).upper()


def _text(what: str, max_length: int) -> Callable[[str], str]:
    """A validator for free text: no control characters, at most `max_length`
    characters. The value itself is never echoed."""

    def check(value: str) -> str:
        found = control_characters(value)
        if found:
            raise _fail(rulebook.TEXT_FORMAT, f"{what} holds control characters "
                        "({found}); remove them", found=" ".join(found))
        if len(value) > max_length:
            raise _fail(rulebook.TEXT_FORMAT, f"{what} is {{length}} characters long; at most "
                        f"{max_length} are allowed", length=len(value))
        return value

    return check


def _in_range(what: str, low: int, high: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise _fail(rulebook.VALUE_RANGE, f"{what} {{value}} is out of range; use {low:,} "
                        f"to {high:,}", value=value)
        return value

    return check


_name_text = _text("name", 64)


def _name(value: str) -> str:
    if not value.strip():
        raise _fail(rulebook.NAME_EMPTY, "name is empty; give the name shown on the phone")
    return _name_text(value)


def _ring_delay(value: int) -> int:
    if not 0 <= value <= 30 or value % 3:
        raise _fail(
            rulebook.RING_DELAY_STEP,
            "ring_delay {value} is not allowed; use 0 to 30 seconds in steps of 3 "
            "(0, 3, 6, ... 30)",
            value=value,
        )
    return value


MAX_BUTTON = 999


def _button(value: int) -> int:
    if not 1 <= value <= MAX_BUTTON:
        raise _fail(rulebook.BUTTON_RANGE, "button {value} is not a button; number buttons from "
                    f"1 to {MAX_BUTTON}", value=value)
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


# Each type also says what an editor should check (JSON Schema, `schema.json_schemas`):
# the same limits as the validators, which alone give the rule ids and messages.
def _shape(**schema: Any) -> WithJsonSchema:
    return WithJsonSchema(schema)


Number = Annotated[str, AfterValidator(_number),
                   _shape(type="string", pattern="^[0-9]{2,5}$")]
PhoneNumber = Annotated[str, AfterValidator(_phone),
                        _shape(type="string", pattern="^\\+?[0-9]{2,20}$")]
Email = Annotated[str, AfterValidator(_email),
                  _shape(type="string", pattern="^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")]
PortalId = Annotated[str, AfterValidator(_portal_id),
                     _shape(type="string", pattern="^[^@\\s]+@[^@\\s]+$")]
#: The control characters `_text` refuses (Unicode's Cc), as JSON Schema patterns:
#: text without them, and a name with something besides spaces too.
_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f"
NO_CONTROL = f"^[^{_CONTROLS}]*$"
_NAME_PATTERN = f"^[^{_CONTROLS}]*[^\\s{_CONTROLS}][^{_CONTROLS}]*$"
DisplayName = Annotated[str, AfterValidator(_name),
                        _shape(type="string", minLength=1, maxLength=64,
                               pattern=_NAME_PATTERN)]
PlatformVersion = Annotated[str, AfterValidator(_version),
                            _shape(type="string", pattern="^[0-9]+(\\.[0-9]+)*$")]
RingDelay = Annotated[int, AfterValidator(_ring_delay),
                      _shape(type="integer", enum=list(range(0, 31, 3)))]
MacAddress = Annotated[str, AfterValidator(_mac), _shape(
    type="string", pattern="^[0-9A-Fa-f]{2}([:.-]?[0-9A-Fa-f]{2}){5}$")]
FeatureCode = Annotated[str, AfterValidator(_feature_code),
                        _shape(type="string", pattern="^[0-9]{1,5}$")]
Button = Annotated[int, AfterValidator(_button),
                   _shape(type="integer", minimum=1, maximum=MAX_BUTTON)]
#: Seats, licences and counts: the numbering plan holds at most 100,000 numbers.
Count = Annotated[int, AfterValidator(_in_range("count", 0, 100_000)),
                  _shape(type="integer", minimum=0, maximum=100_000)]
RotationCounter = Annotated[int, AfterValidator(_in_range("password_rotation", 0, 1_000_000)),
                            _shape(type="integer", minimum=0, maximum=1_000_000)]
ShortText = Annotated[str, AfterValidator(_text("text", 64)),
                      _shape(type="string", maxLength=64, pattern=NO_CONTROL)]
Description = Annotated[str, AfterValidator(_text("description", 128)),
                        _shape(type="string", maxLength=128, pattern=NO_CONTROL)]
TenantName = Annotated[str, AfterValidator(_text("tenant", 128)),
                       _shape(type="string", maxLength=128, pattern=NO_CONTROL)]


class SecretRef(BaseModel):
    """Where a secret comes from at apply time; the value itself is never stored."""

    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)

    env: Annotated[str, AfterValidator(_env_name)] = Field(
        description="The environment variable holding the secret where apply runs; it "
                    "must start with the secret prefix (RECONCILER_PW_ by default).",
        examples=["RECONCILER_PW_0997"])

    def describe(self) -> str:
        return f"${self.env}"


PasswordRef = Annotated[SecretRef, BeforeValidator(_no_inline_secret)]


MIN_PASSWORD, MAX_PASSWORD = 8, 15
DEFAULT_SECRET_PREFIX = "RECONCILER_PW_"


def password_length_problem(length: int) -> str | None:
    """Why a password of this length is refused, or None. Takes the length, never
    the password, and never says the length either: it narrows a guess."""
    if MIN_PASSWORD <= length <= MAX_PASSWORD:
        return None
    return (f"is not {MIN_PASSWORD} to {MAX_PASSWORD} characters long, as the portal needs "
            f"[{rulebook.PASSWORD_LENGTH.id}]")


def version_tuple(version: str) -> tuple[int, ...]:
    """'6.0' -> (6, 0), so versions compare as numbers ('10.0' > '9.1')."""
    return tuple(int(part) for part in version.split("."))
