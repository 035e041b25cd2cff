"""The registry of branch nodes: their public keys and whom they speak for (enrolment, listing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from services.county.authority import speakers
from services.county.authority.rules import Speaker
from services.county.db import tables as t
from services.county.ingest import entity_locks
from services.county.projections.rebuild import rebuild
from shared.envelope import format_time
from shared.errors import FieldError
from shared.ids import is_slug
from shared.signing import key_id_of


def enrol(
    conn: Connection,
    node_id: str,
    public_key_hex: str,
    note: str = "",
    *,
    org_ids: Sequence[str] | None = None,
    office: bool | None = None,
) -> str:
    """Enrol a node with its first public key (again with the same key: no change); returns the
    key id. Later keys arrive inside the node's chain (`node.key_rotated`), never by enrolment.

    `org_ids` (default: the node's own id) and `office` say whom the node speaks for
    (`services.county.authority`), fixed from its first enrolment on; see `_speaks_for`. A new
    node takes the next slot (`_next_slot`), which gives it its ingest worker."""
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
    speaker = speakers.authority(node_id, org_ids, bool(office))
    enrolled = conn.execute(select(t.nodes).where(t.nodes.c.node_id == node_id)).mappings().first()
    if enrolled is None:
        columns = speakers.columns(speaker)
        slot = _next_slot(conn)
        conn.execute(
            t.nodes.insert().values(node_id=node_id, enrolled_at=now, note=note, slot=slot, **columns)
        )
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
    if enrolled is not None and (org_ids is not None or office is not None):
        _speaks_for(conn, enrolled, speaker)
    return key_id


SLOTS = "nodes:slot"
"""The advisory lock enrolments take their slots under (`entity_locks.hold`)."""


def _next_slot(conn: Connection) -> int:
    """The slot of a node enrolled now: one past the highest (0 for the first). On PostgreSQL
    enrolments take theirs one at a time, under a lock held until the commit, so two at once both
    succeed, the second after the first; SQLite has one writer at a time. The unique index on
    `nodes.slot` would refuse a slot given twice regardless."""
    entity_locks.hold(conn, [SLOTS])
    return int(conn.execute(select(func.coalesce(func.max(t.nodes.c.slot), -1))).scalar_one()) + 1


def _speaks_for(conn: Connection, enrolled: Any, speaker: Speaker) -> None:
    """Enrolment again, saying whom the node speaks for: no change if it says what the node's
    enrolment says; refused if it says anything else, since the node's archived events were
    decided by it. A node enrolled before this was recorded (NULL) declares it here, once; where
    that changes what the node may say, the projections are rebuilt in the same transaction, so
    that every event it sent is decided by the declared rule, as a rebuild would."""
    before = speakers.speaker_of(enrolled)
    if enrolled["org_ids"] is not None:
        if before != speaker:
            raise FieldError(
                "org_id",
                f"{before.describe()} was enrolled so; whom a node speaks for is fixed at its enrolment "
                f"(its archived events were decided by it), not {speaker.describe()}",
            )
        return
    node = t.nodes.c.node_id == speaker.node_id
    conn.execute(t.nodes.update().where(node).values(**speakers.columns(speaker)))
    if before != speaker:
        rebuild(conn)


def list_nodes(conn: Connection) -> list[dict[str, Any]]:
    n, k = t.nodes.c, t.node_keys.c
    rows = conn.execute(
        select(n.node_id, n.enrolled_at, n.slot, n.org_ids, n.office, k.key_id, k.public_key)
        .join(t.node_keys, k.node_id == n.node_id, isouter=True)
        .order_by(n.node_id)
    ).mappings()
    out = []
    for r in rows:
        speaker = speakers.speaker_of(r)
        out.append({**dict(r), "org_ids": sorted(speaker.orgs), "office": speaker.office})
    return out
