"""County receipts: the county's signed statement that it archived a node's chain up to a head."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec

from shared.bounds import check_depth
from shared.envelope import Hex64, Timestamp, canonical
from shared.errors import FieldError, from_msgspec
from shared.signing import Signer, Verifier

RECEIPT_FIELDS = ("county_id", "node_id", "seq", "hash", "received_at", "issued_at")


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """Signed by the county key over SHA-256 of the canonical JSON of RECEIPT_FIELDS."""

    county_id: str
    node_id: str
    seq: Annotated[int, msgspec.Meta(ge=1)]
    hash: Hex64
    received_at: Timestamp
    issued_at: Timestamp
    key_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
    sig: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}$")]

    def digest(self) -> bytes:
        return _digest({f: getattr(self, f) for f in RECEIPT_FIELDS})

    def verify(self, county_key: Verifier) -> bool:
        return county_key.key_id == self.key_id and county_key.verify(self.digest(), bytes.fromhex(self.sig))


def _digest(body: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical(body)).digest()


def issue(
    signer: Signer,
    *,
    county_id: str,
    node_id: str,
    seq: int,
    hash: str,
    received_at: str,
    issued_at: str,
) -> Receipt:
    body = {
        "county_id": county_id,
        "node_id": node_id,
        "seq": seq,
        "hash": hash,
        "received_at": received_at,
        "issued_at": issued_at,
    }
    sig = signer.sign(_digest(body)).hex()
    return Receipt(**body, key_id=signer.key_id, sig=sig)  # type: ignore[arg-type]


_decoder = msgspec.json.Decoder(Receipt)


def encode(receipt: Receipt) -> bytes:
    return canonical(msgspec.to_builtins(receipt))


def decode(data: bytes) -> Receipt:
    check_depth(data, "receipt")
    try:
        return _decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc, "receipt") from None


__all__ = ["FieldError", "Receipt", "decode", "encode", "issue"]
