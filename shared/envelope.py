"""The event envelope (DESIGN.md §4): its wire form, canonical encoding, hash and signature.

docs/envelope.md is the auditor's description of the same rules; a test checks its example.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from shared.bounds import EARLIEST, LATEST, MAX_SCHEMA, MAX_SEQ, check_depth
from shared.catalog import EventBody
from shared.errors import FieldError, from_msgspec
from shared.ids import SLUG_PATTERN, whole
from shared.signing import Signer, Verifier

GENESIS_HASH = "0" * 64
"""The prev_hash of a node's first envelope."""

Hex64 = Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{64}$"))]
Timestamp = Annotated[
    str,
    msgspec.Meta(
        pattern=whole(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"),
        description="UTC, microseconds, e.g. 2026-11-27T01:25:05.000000Z",
    ),
]
BODY_FIELDS = (
    "node_id",
    "seq",
    "event_id",
    "type",
    "schema",
    "occurred_at",
    "recorded_at",
    "payload",
    "prev_hash",
)


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """One event as it leaves its node: body fields, then hash, sig and key_id."""

    node_id: Annotated[str, msgspec.Meta(pattern=whole(SLUG_PATTERN))]
    seq: Annotated[int, msgspec.Meta(ge=1)]
    """At most MAX_SEQ; `decode` checks that on its own, so that the refusal has its own error."""
    event_id: Annotated[
        str,
        msgspec.Meta(pattern=whole(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")),
    ]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    schema: Annotated[int, msgspec.Meta(ge=1)]
    occurred_at: Timestamp
    recorded_at: Timestamp
    payload: msgspec.Raw
    prev_hash: Hex64
    hash: Hex64
    sig: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{128}$"))]
    key_id: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{16}$"))]

    @property
    def occurred(self) -> datetime:
        return datetime.fromisoformat(self.occurred_at)

    @property
    def recorded(self) -> datetime:
        return datetime.fromisoformat(self.recorded_at)


class BoundsError(FieldError):
    """An envelope of the right shape with a value outside the bounds (`shared.bounds`); it names
    the node and, where it can be stored, the seq."""

    def __init__(self, field: str, message: str, node_id: str | None = None, seq: int | None = None) -> None:
        super().__init__(field, message)
        self.node_id = node_id
        self.seq = seq


class SeqOutOfRangeError(BoundsError):
    """A seq above MAX_SEQ (its value is not kept: no database column could hold it)."""


class ClockOutOfRangeError(BoundsError):
    """A `recorded_at` (the node's clock) outside EARLIEST..LATEST."""


_envelope_decoder = msgspec.json.Decoder(Envelope)


def _no_floats(text: str) -> Any:
    raise ValueError(f"non-integer number {text}")


_tree_decoder = msgspec.json.Decoder(float_hook=_no_floats)
_encoder = msgspec.json.Encoder(order="sorted")


def format_time(moment: datetime, field: str = "occurred_at") -> str:
    """The canonical time text: UTC with six fractional digits and a `Z`."""
    if moment.tzinfo is None:
        raise FieldError(field, "must carry a time zone")
    # isoformat, unlike strftime's %Y, writes a year below 1000 with four digits
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical(value: Any) -> bytes:
    """Deterministic JSON: keys sorted, no whitespace, UTF-8, integers only.

    Byte-for-byte equal to Python's
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``.
    """
    return _encoder.encode(value)


def body_of(env: Envelope) -> dict[str, Any]:
    """The hashed part of an envelope, as a JSON tree."""
    return {
        "node_id": env.node_id,
        "seq": env.seq,
        "event_id": env.event_id,
        "type": env.type,
        "schema": env.schema,
        "occurred_at": env.occurred_at,
        "recorded_at": env.recorded_at,
        "payload": payload_tree(env.payload),
        "prev_hash": env.prev_hash,
    }


def payload_tree(raw: bytes) -> Any:
    """The payload as a JSON tree; numbers must be integers (floats have no canonical form)."""
    try:
        return _tree_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise FieldError("payload", f"not canonical JSON: {exc}") from None


def hash_body(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def sign(
    *,
    node_id: str,
    seq: int,
    event_id: str,
    body: EventBody,
    occurred_at: datetime,
    recorded_at: datetime,
    prev_hash: str,
    signer: Signer,
) -> Envelope:
    """Chain and sign one event: the node does this in seq order before it leaves."""
    tree = {
        "node_id": node_id,
        "seq": seq,
        "event_id": event_id,
        "type": type(body).__struct_config__.tag,
        "schema": body.SCHEMA,
        "occurred_at": format_time(occurred_at),
        "recorded_at": format_time(recorded_at, "recorded_at"),
        "payload": msgspec.to_builtins(body),
        "prev_hash": prev_hash,
    }
    digest = hashlib.sha256(canonical(tree))
    return Envelope(
        node_id=node_id,
        seq=seq,
        event_id=event_id,
        type=tree["type"],
        schema=tree["schema"],
        occurred_at=tree["occurred_at"],
        recorded_at=tree["recorded_at"],
        payload=msgspec.Raw(canonical(tree["payload"])),
        prev_hash=prev_hash,
        hash=digest.hexdigest(),
        sig=signer.sign(digest.digest()).hex(),
        key_id=signer.key_id,
    )


def encode(env: Envelope) -> bytes:
    """Wire form: the envelope as one JSON object, keys sorted."""
    return _encoder.encode(env)


def decode(data: bytes) -> Envelope:
    """Parse the wire form; an error (a FieldError, whatever the bytes) names the offending field.
    Beyond the shape: valid UTF-8, JSON no deeper
    than MAX_DEPTH (`TooDeepError`, before anything recurses), a seq up to MAX_SEQ
    (`SeqOutOfRangeError`), a schema up to MAX_SCHEMA, times that are real moments (`BoundsError`)
    between EARLIEST and LATEST (`BoundsError`; `ClockOutOfRangeError` for `recorded_at`)."""
    check_depth(data)
    try:
        env: Envelope = _envelope_decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc) from None
    except UnicodeDecodeError as exc:  # msgspec lets a string's invalid UTF-8 through as this
        raise FieldError("", f"not UTF-8: {exc.reason} at byte {exc.start} of a string") from None
    if env.seq > MAX_SEQ:
        raise SeqOutOfRangeError("seq", f"above {MAX_SEQ} (2^53)", env.node_id)
    if env.schema > MAX_SCHEMA:
        raise BoundsError("schema", f"above {MAX_SCHEMA}", env.node_id, env.seq)
    for field in ("recorded_at", "occurred_at"):  # a wrong clock first: it explains the rest
        text = getattr(env, field)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise BoundsError(field, f"{text} is not a real time ({exc})", env.node_id, env.seq) from None
        if not EARLIEST <= moment < LATEST:
            error = ClockOutOfRangeError if field == "recorded_at" else BoundsError
            raise error(
                field, f"{text} is not between {EARLIEST.date()} and {LATEST.date()}", env.node_id, env.seq
            )
    return env


def hash_matches(env: Envelope) -> bool:
    return hash_body(body_of(env)) == env.hash


def signature_valid(env: Envelope, verifier: Verifier) -> bool:
    return verifier.verify(bytes.fromhex(env.hash), bytes.fromhex(env.sig))
