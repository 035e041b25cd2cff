"""Member identity: a keyed hash of the ID number, the same at every node of a county."""

from __future__ import annotations

import hashlib
import hmac

from shared.catalog.base import id_number_problem
from shared.errors import FieldError

SECRET_BYTES = 32


def parse_county_secret(text: str) -> bytes:
    """The county secret is 32 random bytes, written as 64 hex digits."""
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise FieldError("county_secret", "must be 64 hex digits") from None
    if len(secret) != SECRET_BYTES:
        raise FieldError("county_secret", f"must be {SECRET_BYTES} bytes (64 hex digits)")
    return secret


def member_id(county_secret: bytes, id_number: str) -> str:
    """HMAC-SHA256 of the ID number under the county secret, first 128 bits in hex."""
    if problem := id_number_problem(id_number):
        raise FieldError("personal.id_number", problem)
    digest = hmac.new(county_secret, id_number.encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:32]
