"""The registry of branch nodes and their public keys (enrolment, listing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from services.county.db import tables as t
from shared.envelope import format_time
from shared.errors import FieldError
from shared.ids import is_slug
from shared.signing import key_id_of


def enrol(conn: Connection, node_id: str, public_key_hex: str, note: str = "") -> str:
    """Enrol a node with its first public key (again with the same key: no change); returns the
    key id. Later keys arrive inside the node's chain (`node.key_rotated`), never by enrolment."""
    if not is_slug(node_id):
        raise FieldError(
            "node_id",
            "must be a slug of lowercase letters, digits, - and _ (at most 64, not starting with - or _)",
        )
    try:
        public = bytes.fromhex(public_key_hex)
    except ValueError:
        raise FieldError("public_key", "must be 64 hex digits") from None
    if len(public) != 32:
        raise FieldError("public_key", "must be an Ed25519 public key: 32 bytes, 64 hex digits")
    key_id = key_id_of(public)
    now = format_time(datetime.now(UTC))
    if conn.execute(select(t.nodes.c.node_id).where(t.nodes.c.node_id == node_id)).first() is None:
        conn.execute(t.nodes.insert().values(node_id=node_id, enrolled_at=now, note=note))
    owner = conn.execute(
        select(t.node_keys.c.node_id).where(t.node_keys.c.key_id == key_id).limit(1)
    ).scalar_one_or_none()
    first = conn.execute(select(t.node_keys.c.key_id).where(t.node_keys.c.node_id == node_id)).first()
    if owner is None and first is not None:
        raise FieldError(
            "public_key",
            f"node {node_id} is enrolled already (key {first[0]}); a node changes keys inside its chain "
            "(tongxin node rotate-key), so the county never takes a second key on trust",
        )
    if owner is None:
        conn.execute(
            t.node_keys.insert().values(
                key_id=key_id, node_id=node_id, public_key=public.hex(), valid_from=now
            )
        )
    elif owner != node_id:
        raise FieldError("public_key", f"this key is already enrolled for node {owner}")
    return key_id


def list_nodes(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.nodes.c.node_id, t.nodes.c.enrolled_at, t.node_keys.c.key_id, t.node_keys.c.public_key)
        .join(t.node_keys, t.node_keys.c.node_id == t.nodes.c.node_id, isouter=True)
        .order_by(t.nodes.c.node_id)
    ).mappings()
    return [dict(r) for r in rows]
