"""Masking secrets in anything we print: a password written into a URL."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host; the user stays, it helps.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*):[^@/\s]*@")
# key=value query or DSN parameters that carry a password.
_PASSWORD_PARAMETER = re.compile(r"(?i)(?P<head>\bpassword=)[^&\s]*")


def redact_url(text: str) -> str:
    """`text` with any password in a URL or a `password=` parameter masked."""
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    return _PASSWORD_PARAMETER.sub(r"\g<head>***", text)
