"""Checks that need no chain position: shape and bounds, node and key, hash, signature, type,
schema, clock, payload.

Pure functions of a message's bytes, the county's clock and of the node keys they are given (`Keys`:
the ingest's `KeyRegistry`, which reads the database on a miss); nothing here touches the database
itself. Whatever can be wrong with a message is found here, before anything is written, so that it
is quarantined on its first delivery with its own reason rather than failing the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared import envelope
from shared.bounds import TooDeepError
from shared.catalog import EVENT_TYPES, EventBody, FutureSchemaError, check_times, decode_payload
from shared.errors import FieldError
from shared.signing import Job, Verifier, verify_all
from shared.wire import node_of_events_subject


class RefusedError(Exception):
    """A message refused at ingest: it goes to quarantine, with a reason code and a detail naming
    the field (and the node and seq, once the envelope decoded)."""

    def __init__(self, reason: str, detail: str, node_id: str | None = None, seq: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.node_id = node_id
        self.seq = seq


MAX_CLOCK_AHEAD = timedelta(days=1)
"""How far a node's clock (`recorded_at`) may run ahead of the county's when an envelope is
checked, before it is refused as `clock_skew` (`--max-clock-ahead`); behind is no fault. A retry
judges by the clock of the retry: an envelope refused for a clock a little ahead passes later."""


def refusal(exc: FieldError) -> RefusedError:
    """Why an envelope that did not decode is refused: `too_deep`, `seq_out_of_range`, `clock_skew`
    (a node clock before 1900 or after 2200), `invalid` (a value out of bounds: a time that is no
    real moment, a schema beyond range) or `malformed`."""
    if isinstance(exc, TooDeepError):
        return RefusedError("too_deep", str(exc))
    if isinstance(exc, envelope.SeqOutOfRangeError):
        return RefusedError("seq_out_of_range", str(exc), exc.node_id)
    if isinstance(exc, envelope.ClockOutOfRangeError):
        return RefusedError("clock_skew", str(exc), exc.node_id, exc.seq)
    if isinstance(exc, envelope.BoundsError):
        return RefusedError("invalid", str(exc), exc.node_id, exc.seq)
    return RefusedError("malformed", str(exc))


class Keys(Protocol):
    """The enrolled nodes' keys, as `check` and `precheck` ask for them (see `KeyRegistry`)."""

    def known(self, node_id: str, key_id: str) -> Verifier | None:
        """The key `key_id` of the node as already known (no read: safe from another thread)."""

    def lookup(self, node_id: str, key_id: str, seq: int) -> Verifier | None:
        """The key `key_id` of the node if it signs at `seq`."""

    def enrolled(self, node_id: str) -> bool:
        """Whether the node is enrolled."""

    def revoked(self, node_id: str, key_id: str, seq: int) -> int | None:
        """The seq from which key `key_id` of the node is revoked, if it is revoked at `seq`."""


@dataclass(frozen=True)
class Checked:
    env: envelope.Envelope
    body: EventBody


@dataclass(frozen=True)
class Pre:
    """The pure part of `check` for one message, worked out ahead (see `precheck`): `check`
    looks these up instead of computing them again, and still makes every decision itself."""

    env: envelope.Envelope
    intact: bool
    signed_by: bytes | None
    """The public key the signature was found valid under; None if not checked or not valid."""
    body: EventBody | None
    """The payload, decoded and its times checked; None if that failed (`check` repeats it)."""


def precheck(
    batch: Sequence[bytes], keys: Keys, verify: Callable[[list[Job]], list[bool]] = verify_all
) -> list[Pre | None]:
    """For each message: decode, hash, verify the signature under the key the registry already
    knows by the envelope's key id, decode the payload. All pure functions of the bytes (and of
    that public key), so this may run in another thread, ahead of the transaction; it never
    reads the database. None where the envelope does not decode. The batch's signatures are
    checked together by `verify` (a `VerifyPool` checks them in another process)."""
    decoded: list[tuple[envelope.Envelope, bool, bytes | None] | None] = []
    jobs: list[Job] = []
    for data in batch:
        try:
            env = envelope.decode(data)
            intact = envelope.hash_matches(env)
        except FieldError:
            decoded.append(None)
            continue
        known = keys.known(env.node_id, env.key_id)
        key = known.public_key if intact and known is not None else None
        if key is not None:
            jobs.append((key, bytes.fromhex(env.hash), bytes.fromhex(env.sig)))
        decoded.append((env, intact, key))
    verdicts = iter(verify(jobs))
    pres: list[Pre | None] = []
    for found in decoded:
        if found is None:
            pres.append(None)
            continue
        env, intact, key = found
        signed_by = key if key is not None and next(verdicts) else None
        pres.append(Pre(env, intact, signed_by, _body(env)))
    return pres


def _body(env: envelope.Envelope) -> EventBody | None:
    if env.type not in EVENT_TYPES:
        return None
    try:
        body = decode_payload(env.type, env.payload, env.schema)
        check_times(body, env.occurred, env.recorded)
    except FieldError:
        return None
    return body


def check(
    data: bytes,
    subject: str,
    county_id: str,
    keys: Keys,
    pre: Pre | None = None,
    *,
    now: datetime | None = None,
    max_clock_ahead: timedelta = MAX_CLOCK_AHEAD,
) -> Checked:
    """Everything about one message that does not depend on where its node's chain stands;
    `pre`, the `precheck` of these bytes, saves recomputing its parts. Given the county's clock
    (`now`), a `recorded_at` more than `max_clock_ahead` after it is refused."""
    try:
        env = envelope.decode(data) if pre is None else pre.env
    except FieldError as exc:
        raise refusal(exc) from None

    def reject(reason: str, detail: str) -> RefusedError:
        return RefusedError(reason, detail, env.node_id, env.seq)

    if node_of_events_subject(subject, county_id) != env.node_id:
        raise reject("subject_mismatch", f"envelope of node {env.node_id} on subject {subject}")
    if not keys.enrolled(env.node_id):
        raise reject("unknown_node", f"node {env.node_id} is not enrolled")
    verifier = keys.lookup(env.node_id, env.key_id, env.seq)
    if verifier is None:
        revoked_from = keys.revoked(env.node_id, env.key_id, env.seq)
        if revoked_from is not None:
            raise reject(
                "key_revoked",
                f"key {env.key_id} of node {env.node_id} is revoked from seq {revoked_from}: "
                f"it does not sign seq {env.seq}",
            )
        raise reject("unknown_key", f"key {env.key_id} does not sign seq {env.seq} of {env.node_id}")
    try:
        intact = envelope.hash_matches(env) if pre is None else pre.intact
    except FieldError as exc:
        raise reject("malformed", str(exc)) from None
    if not intact:
        raise reject("altered", "hash does not match the envelope's contents")
    verified = pre is not None and pre.signed_by == verifier.public_key
    if not verified and not envelope.signature_valid(env, verifier):
        raise reject("bad_signature", f"signature does not verify under key {env.key_id}")
    if env.type not in EVENT_TYPES:
        raise reject("unknown_type", f"type: unknown event type {env.type!r}")
    if now is not None and env.recorded > now + max_clock_ahead:
        raise reject(
            "clock_skew",
            f"recorded_at: {env.recorded_at} is more than {max_clock_ahead} ahead of the county's clock "
            f"({envelope.format_time(now)})",
        )
    if pre is not None and pre.body is not None:
        return Checked(env, pre.body)
    try:
        body = decode_payload(env.type, env.payload, env.schema)
        check_times(body, env.occurred, env.recorded)
    except FutureSchemaError as exc:
        raise reject("future_schema", str(exc)) from None
    except FieldError as exc:
        raise reject("invalid", str(exc)) from None
    return Checked(env, body)
