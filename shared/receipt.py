"""County receipts: the county's signed statement that it archived a node's chain up to a head.

While the county's receipt key is being rotated (`shared.county_key`), a receipt is signed by the
new key (`key_id`, `sig`) and co-signed over the same digest by the previous one (`cosigs`), and
it carries the handovers from earlier keys to the current one (`handovers`), so that a node that
trusts either key accepts it and one that trusts an earlier key can adopt the current one. Both
lists are left out of the wire form when empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import msgspec

from shared.bounds import check_depth
from shared.county_key import CountyKeys, Handover
from shared.envelope import Hex64, Timestamp, canonical
from shared.errors import FieldError, from_msgspec
from shared.signing import Signer, Verifier

RECEIPT_FIELDS = ("county_id", "node_id", "seq", "hash", "received_at", "issued_at")


KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
Sig = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}$")]
MAX_HANDOVERS = 16
"""A receipt carries at most this many handovers (the newest)."""


class Cosig(msgspec.Struct, frozen=True, kw_only=True):
    """Another county key's signature over the receipt's digest (the previous key, in an overlap)."""

    key_id: KeyId
    sig: Sig


class Receipt(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Signed by the county key over SHA-256 of the canonical JSON of RECEIPT_FIELDS."""

    county_id: str
    node_id: str
    seq: Annotated[int, msgspec.Meta(ge=1)]
    hash: Hex64
    received_at: Timestamp
    issued_at: Timestamp
    key_id: KeyId
    sig: Sig
    cosigs: Annotated[list[Cosig], msgspec.Meta(max_length=4)] = []
    handovers: Annotated[list[Handover], msgspec.Meta(max_length=MAX_HANDOVERS)] = []

    def digest(self) -> bytes:
        return _digest({f: getattr(self, f) for f in RECEIPT_FIELDS})

    def verify(self, county_key: Verifier | CountyKeys) -> bool:
        """Signed (`key_id`, `sig`) by this key, or by a county key of this set at its `issued_at`."""
        if isinstance(county_key, CountyKeys):
            return county_key.problem(self.key_id, self.issued_at, self.digest(), self.sig) is None
        return county_key.key_id == self.key_id and county_key.verify(self.digest(), bytes.fromhex(self.sig))

    def signed_by(self, trusted: Iterable[Verifier]) -> Verifier | None:
        """The trusted key that signed or co-signed this receipt, if any."""
        by_id = {k.key_id: k for k in trusted}
        digest = self.digest()
        for key_id, sig in [(self.key_id, self.sig), *((c.key_id, c.sig) for c in self.cosigs)]:
            key = by_id.get(key_id)
            if key is not None and key.verify(digest, bytes.fromhex(sig)):
                return key
        return None


def _digest(body: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical(body)).digest()


def issue(
    signer: Signer,
    *,
    cosigners: Sequence[Signer] = (),
    handovers: Sequence[Handover] = (),
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
    digest = _digest(body)
    cosigs = [Cosig(key_id=c.key_id, sig=c.sign(digest).hex()) for c in cosigners]
    return Receipt(
        **body,  # type: ignore[arg-type]
        key_id=signer.key_id,
        sig=signer.sign(digest).hex(),
        cosigs=cosigs,
        handovers=list(handovers[-MAX_HANDOVERS:]),
    )


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
