"""How the embedded and PostgreSQL tenants keep passwords: a salted, memory-hard hash,
never the password.

The portal holds the real passwords; a stand-in tenant keeps a hash only to record
which password was set, and must not hand passwords to whoever copies its file.
scrypt (N=2^8, r=8: 256 KiB of memory and about 0.9 ms a password here) makes every
guess cost that memory as well as that time, which is what GPUs are poor at; a
salted hash per password means each user's guesses start from nothing. It is
cheaper per password than the 50,000 PBKDF2 rounds used before (about 12-27 ms),
so that a tenant of 100,000 users with passwords applies within twice the time of
one without (BENCHMARKS.md); hashes made the old way are still verified.
"""

from __future__ import annotations

import hashlib
import secrets

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**8, 8, 1
_PBKDF2_ROUNDS = 50_000  # the scheme before scrypt; still verified


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The portal keeps passwords; our stand-in keeps only a salted hash of them."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Checked with the scheme and cost the hash was made with."""
    scheme, *parts = stored.split("$")
    if scheme == "scrypt":
        n, r, p, salt, digest = parts
        found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n),
                               r=int(r), p=int(p), dklen=32)
    elif scheme == "pbkdf2_sha256":
        rounds, salt, digest = parts
        found = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt),
                                    int(rounds))
    else:
        return False
    return secrets.compare_digest(found.hex(), digest)
