"""Re-enrolling a node with a new key after a revocation (`tongxin county enrol-node … --from-seq N`),
and the list of revocations.

Enrolment takes a node's first key on trust; so does re-enrolment, for the seqs from the
revocation on: the new key signs from `from_seq` — the first seq the revocation took from the
node's old keys — and the node's chain goes on from the last envelope before it, with the same
links (an envelope's hash does not cover its key). The key must be new to the county, like any
key a node takes on. An auditor sees the re-enrolment beside the revocation (`audit verify`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from services.county.db import tables as t
from services.county.db.key_tables import key_revocations
from shared.envelope import format_time
from shared.errors import FieldError
from shared.signing import Verifier


def _public_key(public_key_hex: str) -> Verifier:
    try:
        public = bytes.fromhex(public_key_hex)
    except ValueError:
        raise FieldError("public_key", "must be 64 hex digits") from None
    if len(public) != 32:
        raise FieldError("public_key", "must be an Ed25519 public key: 32 bytes, 64 hex digits")
    return Verifier(public)


def reenrol(conn: Connection, node_id: str, public_key_hex: str, from_seq: int) -> str:
    """Enrol a new key for the node from `from_seq` on, after the revocation from that seq;
    returns its key id (again with the same key and seq: no change)."""
    key = _public_key(public_key_hex)
    r = key_revocations.c
    latest = (
        conn.execute(select(key_revocations).where(r.node_id == node_id).order_by(r.id.desc()).limit(1))
        .mappings()
        .first()
    )
    if latest is None:
        raise FieldError(
            "from_seq",
            f"node {node_id} has no revoked key: a node changes keys inside its chain (tongxin node "
            "rotate-key); re-enrolment is for a node whose keys were revoked (tongxin county revoke-key)",
        )
    if latest["new_key_id"] is not None:
        if (latest["new_key_id"], latest["from_seq"]) == (key.key_id, from_seq):
            return key.key_id
        raise FieldError(
            "from_seq",
            f"node {node_id} was re-enrolled with key {latest['new_key_id']} from seq {latest['from_seq']} "
            "already; revoke that key first",
        )
    if from_seq != latest["from_seq"]:
        raise FieldError(
            "from_seq",
            f"node {node_id}'s keys are revoked from seq {latest['from_seq']}: the new key signs from "
            f"there (--from-seq {latest['from_seq']})",
        )
    c = t.node_keys.c
    holder = conn.execute(
        select(c.node_id).where((c.public_key == key.public_key.hex()) | (c.key_id == key.key_id)).limit(1)
    ).scalar_one_or_none()
    if holder is not None:
        whose = "this node already" if holder == node_id else f"node {holder}"
        raise FieldError("public_key", f"the key is held by {whose}: re-enrol with a key new to the county")
    now = format_time(datetime.now(UTC))
    conn.execute(
        t.node_keys.insert().values(
            key_id=key.key_id,
            node_id=node_id,
            public_key=key.public_key.hex(),
            valid_from=now,
            valid_from_seq=from_seq,
        )
    )
    conn.execute(
        key_revocations.update().where(r.id == latest["id"]).values(new_key_id=key.key_id, reenrolled_at=now)
    )
    return key.key_id


def revocations(conn: Connection, node_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every revocation (of these nodes), oldest first."""
    query = select(key_revocations).order_by(key_revocations.c.id)
    if node_ids is not None:
        query = query.where(key_revocations.c.node_id.in_(node_ids))
    return [dict(row) for row in conn.execute(query).mappings()]


def reenrolled(conn: Connection, node_ids: list[str]) -> dict[str, dict[int, Verifier]]:
    """Each node's re-enrolled keys, by the seq each signs from (the chain takes them on trust)."""
    r, c = key_revocations.c, t.node_keys.c
    query = (
        select(r.node_id, r.from_seq, c.public_key)
        .join(t.node_keys, (c.node_id == r.node_id) & (c.key_id == r.new_key_id))
        .where(r.node_id.in_(node_ids), c.revoked_from_seq.is_(None) | (c.revoked_from_seq > r.from_seq))
    )
    found: dict[str, dict[int, Verifier]] = {}
    for node_id, from_seq, public in conn.execute(query):
        found.setdefault(node_id, {})[int(from_seq)] = Verifier.from_hex(public)
    return found
