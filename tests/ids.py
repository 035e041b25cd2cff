"""Member ids for tests: the keyed hash of an ID number that nodes once derived under a county
secret, kept here so that tests can name sample members before any node has seen them (nodes
now give a new member a random id, `shared.personal.new_member_id`)."""

from __future__ import annotations

import hashlib
import hmac

from shared.catalog.base import id_number_problem
from shared.errors import FieldError

COUNTY_SECRET = "5e" * 32
SECRET_BYTES = 32


def parse_county_secret(text: str) -> bytes:
    """A secret of 32 bytes, written as 64 hex digits."""
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise FieldError("county_secret", "must be 64 hex digits") from None
    if len(secret) != SECRET_BYTES:
        raise FieldError("county_secret", f"must be {SECRET_BYTES} bytes (64 hex digits)")
    return secret


def member_id(secret: bytes, id_number: str) -> str:
    """HMAC-SHA256 of the ID number under `secret`, first 128 bits in hex."""
    if problem := id_number_problem(id_number):
        raise FieldError("personal.id_number", problem)
    return hmac.new(secret, id_number.encode("ascii"), hashlib.sha256).hexdigest()[:32]


class _Given:
    """For `parse_item` of items that all carry their member id."""

    def assign(self, id_number: str) -> str:
        raise AssertionError("every registration here carries its member id")


GIVEN = _Given()


def sample_member_id(i: int) -> str:
    """The member id `tests.samples.registration(i)` carries."""
    from tests.samples import id_number

    return member_id(bytes.fromhex(COUNTY_SECRET), id_number(i))
