"""Passwords and tokens, the one way the project handles them (county accounts, the node's clerk).

Passwords are hashed with Argon2id (`argon2-cffi`, its RFC 9106 low-memory profile: 64 MiB, 3
passes) and never kept in clear. Tokens (sessions, bearer tokens, one-time sign-in tokens) are 256
random bits from `secrets`, shown once; only their SHA-256 is stored, so a copied database or file
gives no usable token. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

MIN_PASSWORD = 10
"""Shortest password accepted (NIST SP 800-63B asks for at least 8; long passphrases are better)."""
MAX_PASSWORD = 1024
"""Longest password accepted: Argon2 takes any length, the bound keeps a request's work bounded."""

_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


class WeakPasswordError(ValueError):
    """A password refused before hashing: too short or too long."""


def check_password_rules(password: str) -> None:
    """Refuse a password shorter than `MIN_PASSWORD` or longer than `MAX_PASSWORD` characters."""
    if len(password) < MIN_PASSWORD:
        raise WeakPasswordError(f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise WeakPasswordError(f"at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string, salt and parameters included) of an acceptable password."""
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether `password` matches `stored`; False for a malformed hash or an oversized password."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with weaker parameters than today's (rehash at the next sign-in)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def new_token() -> str:
    """A fresh token to show once: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex (a token has 256 bits of entropy: no salt needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time equality of two strings (tokens, CSRF values)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))
