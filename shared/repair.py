"""The repair protocol's messages, written once for both sides (DESIGN §3.2).

A county that holds a gap in a node's chain for longer than its grace period asks the node to
re-send the missing range (`ResendRequest`, core NATS on the node's requests subject). A node
restored from a backup asks the county for its own archived envelopes back (`ArchiveQuery`,
request-reply on its archive subject) and gets them a page at a time (`ArchivePage`). Every
field is bounded: a message out of bounds is refused with the field named. Both requests are
signed (the county's receipt key signs re-send requests, the node's own key its archive
queries) over SHA-256 of the canonical JSON of every field but `key_id` and `sig`, and carry
their time, so a node re-sends only when its county asks, and only a node itself gets its
envelopes back.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import msgspec

from shared.bounds import check_depth
from shared.envelope import Timestamp, canonical, format_time
from shared.errors import FieldError, from_msgspec
from shared.signing import Signer, Verifier

MAX_RESEND = 1_000_000
"""The widest range one request may ask for (the repair of a larger gap takes several)."""
MAX_PAGE = 1000
"""Envelopes per archive page at most."""
PAGE_BYTES = 900 * 1024
"""An archive page stays under NATS's default 1 MiB payload."""

MAX_AGE = timedelta(minutes=10)
"""A signed request older (or further ahead) than this is refused: a copy cannot be replayed later."""

Seq = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
Sig = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{128}$")]


class Signed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    at: Timestamp
    key_id: KeyId = "0" * 16
    sig: Sig = "0" * 128

    def digest(self) -> bytes:
        body = {f: getattr(self, f) for f in self.__struct_fields__ if f not in ("key_id", "sig")}
        return hashlib.sha256(canonical(body)).digest()

    def signed_by(self, key: Verifier) -> bool:
        return key.key_id == self.key_id and key.verify(self.digest(), bytes.fromhex(self.sig))

    def fresh(self, now: datetime | None = None) -> bool:
        """Signed within MAX_AGE of `now`."""
        return abs((now or datetime.now(UTC)) - datetime.fromisoformat(self.at)) <= MAX_AGE


class ResendRequest(Signed, frozen=True, kw_only=True):
    """The county asks a node to re-send seqs [from_seq, to_seq] of its chain."""

    county_id: Slug
    node_id: Slug
    from_seq: Seq
    to_seq: Seq


class ArchiveQuery(Signed, frozen=True, kw_only=True):
    """A node asks for its archived envelopes after `after`, at most `limit` of them."""

    node_id: Slug
    after: Annotated[int, msgspec.Meta(ge=0, le=2**53)]
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE)] = MAX_PAGE


S = TypeVar("S", bound=Signed)


def sign(message: S, signer: Signer) -> S:
    """`message` signed by `signer` (its `at` as given)."""
    unsigned = msgspec.structs.replace(message, key_id=signer.key_id)
    return msgspec.structs.replace(unsigned, sig=signer.sign(unsigned.digest()).hex())


def now_text() -> str:
    return format_time(datetime.now(UTC))


class ArchivePage(msgspec.Struct, frozen=True, kw_only=True):
    """The county's answer: its head for the node and envelopes in seq order (wire bytes as text);
    `error` instead when the query was refused."""

    head: int = 0
    envelopes: list[str] = []
    error: str | None = None


def _decode(data: bytes, kind: type[Any], name: str) -> Any:
    if len(data) > PAGE_BYTES + 64 * 1024:
        raise FieldError(name, f"larger than {PAGE_BYTES + 64 * 1024:,} bytes")
    check_depth(data, name)
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc, name) from None


def decode_signed(data: bytes, kind: type[S], name: str) -> S:
    """A signed message of `kind` decoded and bounded (signature and freshness are the caller's)."""
    found: S = _decode(data, kind, name)
    return found


def decode_request(data: bytes) -> ResendRequest:
    req: ResendRequest = _decode(data, ResendRequest, "request")
    if req.to_seq < req.from_seq:
        raise FieldError("request.to_seq", "must not be below from_seq")
    if req.to_seq - req.from_seq >= MAX_RESEND:
        raise FieldError("request.to_seq", f"a request asks for at most {MAX_RESEND:,} seqs")
    return req


def decode_query(data: bytes) -> ArchiveQuery:
    query: ArchiveQuery = _decode(data, ArchiveQuery, "query")
    return query


def decode_page(data: bytes) -> ArchivePage:
    page: ArchivePage = _decode(data, ArchivePage, "page")
    return page


def encode(message: ResendRequest | ArchiveQuery | ArchivePage) -> bytes:
    return msgspec.json.encode(message)
