"""County key handovers: the signed statement by which a new county receipt key takes over.

When the county rotates its receipt key (`tongxin county rotate-key`) it writes a `Handover`:
the county, the previous key and the new one, when, and until when the previous key still
co-signs receipts (`overlap_until`). Both keys sign it — the previous one (`prev_sig`) so that a
node that trusts the previous key may adopt the new one, the new one (`sig`) so that an auditor
given the new key accepts the receipts the previous one signed before. A handover made after a
compromise of the previous key (`compromised`) carries no `prev_sig`: nodes adopt nothing from
it and are given the new key by hand; an auditor still follows it back from the new key, and
accepts the previous key's receipts only up to `made_at`.

Each signature is Ed25519 over SHA-256 of the canonical JSON of every field but the two
signatures (`compromised` included, `false` or `true`), with `"statement": "tongxin county key
handover"` added, so that a handover's bytes are never a receipt's or an envelope's. The wire form
has every field (`prev_sig` null when compromised).

`CountyKeys` is the set of county keys an auditor reaches from the keys it trusts by following
valid handovers, each key with the last `issued_at` it may sign a receipt at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

import msgspec

from shared.envelope import Hex64, Timestamp, canonical
from shared.errors import from_msgspec
from shared.signing import Signer, Verifier

STATEMENT = "tongxin county key handover"
KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
Sig = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}$")]


class Handover(msgspec.Struct, frozen=True, kw_only=True):
    county_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    prev_key_id: KeyId
    prev_public_key: Hex64
    key_id: KeyId
    public_key: Hex64
    made_at: Timestamp
    overlap_until: Timestamp
    compromised: bool = False
    prev_sig: Sig | None = None
    sig: Sig = "0" * 128

    def digest(self) -> bytes:
        body = {f: getattr(self, f) for f in self.__struct_fields__ if f not in ("prev_sig", "sig")}
        return hashlib.sha256(canonical({**body, "statement": STATEMENT})).digest()

    def signed_by_new(self) -> bool:
        new = Verifier.from_hex(self.public_key)
        return new.key_id == self.key_id and new.verify(self.digest(), bytes.fromhex(self.sig))

    def signed_by_prev(self) -> bool:
        prev = Verifier.from_hex(self.prev_public_key)
        return (
            self.prev_sig is not None
            and not self.compromised
            and prev.key_id == self.prev_key_id
            and prev.verify(self.digest(), bytes.fromhex(self.prev_sig))
        )

    @property
    def prev_until(self) -> str:
        """The last `issued_at` at which the previous key may still sign a receipt."""
        return self.made_at if self.compromised else self.overlap_until


def hand_over(
    prev: Signer | None,
    new: Signer,
    *,
    prev_public_key: str,
    county_id: str,
    made_at: str,
    overlap_until: str,
) -> Handover:
    """The statement that `new` takes over from the previous key, signed by `new` and — unless
    the previous key is compromised (`prev` None) — by the previous key."""
    old = Verifier.from_hex(prev_public_key)
    unsigned = Handover(
        county_id=county_id,
        prev_key_id=old.key_id,
        prev_public_key=prev_public_key,
        key_id=new.key_id,
        public_key=new.public_key_hex,
        made_at=made_at,
        overlap_until=made_at if prev is None else overlap_until,
        compromised=prev is None,
    )
    digest = unsigned.digest()
    prev_sig = None if prev is None else prev.sign(digest).hex()
    return msgspec.structs.replace(unsigned, prev_sig=prev_sig, sig=new.sign(digest).hex())


def encode(handover: Handover) -> bytes:
    return canonical(msgspec.to_builtins(handover))


def decode(data: bytes | str) -> Handover:
    try:
        return msgspec.json.decode(data, type=Handover)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc, "handover") from None


@dataclass(frozen=True)
class CountyKey:
    verifier: Verifier
    until: str | None
    """The last `issued_at` it may sign a receipt at (None: it is current)."""
    how: str
    """Why it is trusted: "given", or the handover that leads to it."""


class CountyKeys:
    """The county keys reached from `trusted` by valid handovers (both ways, see the module)."""

    def __init__(self, trusted: Iterable[Verifier], handovers: Iterable[Handover] = ()) -> None:
        self.keys: dict[str, CountyKey] = {v.key_id: CountyKey(v, None, "given") for v in trusted}
        todo = [h for h in handovers if h.signed_by_new()]
        changed = True
        while changed:
            changed = False
            for h in list(todo):
                forward = h.prev_key_id in self.keys and h.signed_by_prev()
                if h.key_id not in self.keys and not forward:
                    continue
                todo.remove(h)
                changed = True
                if h.key_id not in self.keys:
                    self.keys[h.key_id] = CountyKey(
                        Verifier.from_hex(h.public_key), None, f"handover from {h.prev_key_id}"
                    )
                prev = self.keys.get(h.prev_key_id)
                verifier = prev.verifier if prev else Verifier.from_hex(h.prev_public_key)
                how = prev.how if prev else f"handover to {h.key_id}"
                self.keys[h.prev_key_id] = CountyKey(verifier, h.prev_until, how)

    @property
    def key_id(self) -> str:
        """The ids of the keys, for messages."""
        return "/".join(sorted(self.keys))

    def get(self, key_id: str) -> Verifier | None:
        found = self.keys.get(key_id)
        return found.verifier if found is not None else None

    def problem(self, key_id: str, issued_at: str, digest: bytes, sig: str) -> str | None:
        """Why a signature by county key `key_id` at `issued_at` does not count, or None."""
        found = self.keys.get(key_id)
        if found is None:
            return f"does not verify under the county key {self.key_id}"
        if not found.verifier.verify(digest, bytes.fromhex(sig)):
            return f"does not verify under the county key {key_id}"
        if found.until is not None and issued_at > found.until:
            return f"is signed by county key {key_id} after it was handed over (it signs up to {found.until})"
        return None
