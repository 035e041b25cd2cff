"""Personal data sealed per member (DESIGN §4, §9; docs/personal-data.md).

Each member has keys of their own (32 random bytes, a random 32-hex key id). A node seals a
member's `personal` under the member's current key before the event is logged, hashed or signed:
XChaCha20-Poly1305 (libsodium's IETF AEAD, through PyNaCl) with a random 24-byte nonce and the
member id and key id as associated data, so a box moved to another member or key does not open.
The plaintext is the clear `Personal` as canonical JSON. Destroying every copy of a member's keys
leaves the boxes in chains, archives and exports unreadable, and every chain still verifies.

A key reaches the county outside the archive: a `KeyDelivery`, the key sealed to the county's
receipt key (`shared.signing.seal_for`) and signed by the node, sent by request-reply on the
node's keys subject, which no stream captures (`shared.wire.keys_subject`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Final

import msgspec
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError

from shared import repair
from shared.catalog.base import KeyId, MemberId, Personal, Sealed
from shared.ids import SLUG_PATTERN, whole

ALG: Final = "xchacha20poly1305-ietf"
KEY_BYTES = 32
NONCE_BYTES = 24
ERASED = "[已删除]"
"""What every view shows in place of an erased member's personal data."""
_AAD = b"tongxin personal v1"


class SealError(ValueError):
    """A sealed personal that does not open under the key given (wrong key, member or bytes)."""


@dataclass(frozen=True)
class MemberKey:
    key_id: str
    key: bytes

    @classmethod
    def new(cls) -> MemberKey:
        return cls(secrets.token_hex(16), secrets.token_bytes(KEY_BYTES))


def new_member_id() -> str:
    """A member's id: 128 random bits in hex. Random, so that no file anywhere turns it back into
    an ID number; a member keeps it across moves (member.moved names it)."""
    return secrets.token_hex(16)


def _aad(member_id: str, key_id: str) -> bytes:
    return b"\0".join((_AAD, member_id.encode("ascii"), key_id.encode("ascii")))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal(personal: Personal, key: MemberKey, member_id: str, nonce: bytes | None = None) -> Personal:
    """`personal` in clear → the sealed form, under `key`, for `member_id`. The nonce is random;
    give one only to reproduce a worked example (a nonce used twice under one key breaks the
    cipher)."""
    if personal.sealed is not None:
        return personal
    clear = msgspec.json.encode(personal)
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a nonce is {NONCE_BYTES} bytes")
    box = crypto_aead_xchacha20poly1305_ietf_encrypt(clear, _aad(member_id, key.key_id), nonce, key.key)
    return Personal(sealed=Sealed(alg=ALG, key_id=key.key_id, nonce=_b64(nonce), box=_b64(box)))


def unseal(personal: Personal, key: bytes, member_id: str) -> Personal:
    """The sealed form → `personal` in clear (a clear one is returned as it is); SealError if the
    key, the member or the bytes do not match."""
    sealed = personal.sealed
    if sealed is None:
        return personal
    try:
        nonce, box = base64.b64decode(sealed.nonce), base64.b64decode(sealed.box)
        clear = crypto_aead_xchacha20poly1305_ietf_decrypt(box, _aad(member_id, sealed.key_id), nonce, key)
        opened = msgspec.json.decode(clear, type=Personal)
    except (CryptoError, ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SealError(
            f"personal data of member {member_id} does not open under key {sealed.key_id}"
        ) from exc
    if opened.sealed is not None:
        raise SealError("a sealed personal inside a sealed personal")
    return opened


def mask_id_number(value: str | None) -> str | None:
    """`431102198807010898` → `4311**********0898`: the region's first four, the last four."""
    return None if value is None else value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """`13812345678` → `138****5678`."""
    return None if value is None else value[:3] + "****" + value[-4:]


def identity_digest(index_key: bytes, id_number: str) -> str:
    """A keyed index of an ID number (HMAC-SHA256, hex): equal numbers give equal digests, and
    without the index key (held by one party only: a node for its own members, the county for
    the county's) it is not turned back into a number."""
    return hmac.new(index_key, id_number.encode("ascii"), hashlib.sha256).hexdigest()


Slug = Annotated[str, msgspec.Meta(pattern=whole(SLUG_PATTERN))]


class KeyDelivery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One member key, node → county, by request-reply on the node's keys subject.

    `sealed_key` is the 32-byte key sealed to the county key `county_key_id`; `sig` is the node's
    Ed25519 signature (key `signer_key_id`) over `digest()`."""

    node_id: Slug
    member_id: MemberId
    key_id: KeyId
    county_key_id: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{16}$"))]
    sealed_key: Annotated[str, msgspec.Meta(max_length=200, pattern=whole(r"^[A-Za-z0-9+/=]+$"))]
    signer_key_id: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{16}$"))]
    sig: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{128}$"))]

    def digest(self) -> bytes:
        fields = (self.node_id, self.member_id, self.key_id, self.county_key_id, self.sealed_key)
        return hashlib.sha256(b"tongxin key delivery v1\0" + "\0".join(fields).encode("ascii")).digest()


class KeyAck(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The county's answer: the key is in its key store (`stored`), or why not (`refused`);
    signed by the county's receipt key (`county_key_id`) over `digest()`."""

    node_id: Slug
    key_id: KeyId
    stored: bool
    refused: Annotated[str, msgspec.Meta(max_length=200)] = ""
    county_key_id: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{16}$"))]
    sig: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{128}$"))]

    def digest(self) -> bytes:
        fields = (self.node_id, self.key_id, "stored" if self.stored else "refused", self.refused)
        return hashlib.sha256(b"tongxin key ack v1\0" + "\0".join(fields).encode("utf-8")).digest()


MAX_ERASED_PER_NOTICE = 1000
"""Member ids one erasure notice names at most (a longer list goes in several)."""


class ErasureNotice(repair.Signed, frozen=True, kw_only=True):
    """The county tells a node, on its requests subject, which members are erased: the node
    destroys its keys of them and refuses their personal data from then on. Signed by the
    county's receipt key and fresh (`repair.MAX_AGE`), so a copy is not replayed later; sent
    when an erasure is ingested and again every few minutes (a node offline meanwhile learns
    when it is back). Idempotent: a node that holds no key of a member ignores it."""

    county_id: Slug
    node_id: Slug
    erased: Annotated[list[MemberId], msgspec.Meta(min_length=1, max_length=MAX_ERASED_PER_NOTICE)]


def decode_notice(data: bytes) -> ErasureNotice:
    notice: ErasureNotice = repair.decode_signed(data, ErasureNotice, "notice")
    return notice
