"""How the embedded tenant keeps passwords: a salted PBKDF2 hash, never the password."""

from __future__ import annotations

import hashlib
import secrets

_PBKDF2_ROUNDS = 50_000


def hash_password(password: str, salt: bytes | None = None,
                  rounds: int = _PBKDF2_ROUNDS) -> str:
    """The portal keeps passwords; our stand-in keeps only a salted hash of them."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
    return f"pbkdf2_sha256${rounds}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Checked with the rounds the hash was made with, so a tenant keeps verifying its
    passwords if a later version changes the default."""
    _, rounds, salt, _ = stored.split("$")
    return secrets.compare_digest(
        hash_password(password, bytes.fromhex(salt), int(rounds)), stored)
