"""Checks that need no chain position: shape, node and key, hash, signature, type, schema, payload."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from services.county.db import tables as t
from shared import envelope
from shared.catalog import EVENT_TYPES, EventBody, FutureSchemaError, check_times, decode_payload
from shared.errors import FieldError
from shared.signing import Verifier


class Rejected(Exception):
    """A message that goes to quarantine, with a reason code and a detail naming the field."""

    def __init__(self, reason: str, detail: str, node_id: str | None = None, seq: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.node_id = node_id
        self.seq = seq


@dataclass(frozen=True)
class Checked:
    env: envelope.Envelope
    body: EventBody


class KeyRegistry:
    """Enrolled nodes and their keys, cached; re-read from the database on a miss."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.keys: dict[str, dict[str, Verifier]] = {}
        self.refresh()

    def refresh(self) -> None:
        keys: dict[str, dict[str, Verifier]] = {}
        with self.engine.connect() as conn:
            for (node_id,) in conn.execute(select(t.nodes.c.node_id)):
                keys[node_id] = {}
            for node_id, key_id, public in conn.execute(
                select(t.node_keys.c.node_id, t.node_keys.c.key_id, t.node_keys.c.public_key)
            ):
                keys.setdefault(node_id, {})[key_id] = Verifier.from_hex(public)
        self.keys = keys

    def lookup(self, node_id: str, key_id: str) -> Verifier | None:
        found = self.keys.get(node_id, {}).get(key_id)
        if found is None:
            self.refresh()
            found = self.keys.get(node_id, {}).get(key_id)
        return found

    def enrolled(self, node_id: str) -> bool:
        if node_id not in self.keys:
            self.refresh()
        return node_id in self.keys


def node_of_subject(subject: str, county_id: str) -> str | None:
    parts = subject.split(".")
    if len(parts) == 4 and parts[0] == "tongxin" and parts[1] == county_id and parts[2] == "events":
        return parts[3]
    return None


def check(data: bytes, subject: str, county_id: str, keys: KeyRegistry) -> Checked:
    """Everything about one message that does not depend on where its node's chain stands."""
    try:
        env = envelope.decode(data)
    except FieldError as exc:
        raise Rejected("malformed", str(exc)) from None

    def reject(reason: str, detail: str) -> Rejected:
        return Rejected(reason, detail, env.node_id, env.seq)

    if node_of_subject(subject, county_id) != env.node_id:
        raise reject("subject_mismatch", f"envelope of node {env.node_id} on subject {subject}")
    if not keys.enrolled(env.node_id):
        raise reject("unknown_node", f"node {env.node_id} is not enrolled")
    verifier = keys.lookup(env.node_id, env.key_id)
    if verifier is None:
        raise reject("unknown_key", f"key {env.key_id} is not enrolled for {env.node_id}")
    try:
        intact = envelope.hash_matches(env)
    except FieldError as exc:
        raise reject("malformed", str(exc)) from None
    if not intact:
        raise reject("altered", "hash does not match the envelope's contents")
    if not envelope.signature_valid(env, verifier):
        raise reject("bad_signature", f"signature does not verify under key {env.key_id}")
    if env.type not in EVENT_TYPES:
        raise reject("unknown_type", f"type: unknown event type {env.type!r}")
    try:
        body = decode_payload(env.type, env.payload, env.schema)
        check_times(body, env.occurred, env.recorded)
    except FutureSchemaError as exc:
        raise reject("future_schema", str(exc)) from None
    except FieldError as exc:
        raise reject("invalid", str(exc)) from None
    return Checked(env, body)
