"""Quarantine (DESIGN §3.7): a refused message is kept with its reason and retried after a fix.

Nothing refused is ever dropped: the raw bytes stay in the quarantine table beside the reason
and the detail naming the field, until a retry archives (or holds) them and marks the row
resolved. A row is keyed by its content (`digest_of` subject and bytes), so a message delivered
again — redelivery, a consumer re-reading the stream — is kept once. A message on a node's events
subject counts against that node even when nothing in it can be read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from services.county.db import tables as t
from services.county.db.upsert import insert_ignore
from services.county.ingest.checks import RefusedError
from services.county.ingest.incoming import Incoming
from shared import envelope
from shared.wire import parse_subject


def digest_of(subject: str, raw: bytes) -> str:
    """What keys a quarantined message: SHA-256 of its subject, a NUL and its bytes."""
    return hashlib.sha256(subject.encode() + b"\0" + raw).hexdigest()


def keep(conn: Connection, item: Incoming, err: RefusedError) -> None:
    """Keep a refused message with its reason and raw bytes (never drop it), once per content."""
    parsed = parse_subject(item.subject)
    node_id = err.node_id or (parsed.node_id if parsed is not None else None)
    row = {
        "received_at": item.received_at,
        "nats_subject": item.subject,
        "node_id": node_id,
        "seq": err.seq,
        "reason": err.reason,
        "detail": err.detail,
        "raw": item.data,
        "digest": digest_of(item.subject, item.data),
    }
    insert_ignore(conn, t.quarantine, [row])


def retry(
    conn: Connection, place: Callable[[Incoming], object], ids: list[int] | None = None
) -> tuple[int, int]:
    """Re-process open quarantine rows (e.g. after enrolling their node), in chain order, each
    through `place` (the placement's, which raises `RefusedError` for a message refused again).

    Returns (resolved, still quarantined). A row that fails again keeps its place, with the
    new reason; nothing is quarantined twice.
    """
    resolved = still = 0
    query = select(t.quarantine).where(t.quarantine.c.resolved_at.is_(None))
    if ids:
        query = query.where(t.quarantine.c.id.in_(ids))
    rows = sorted(
        conn.execute(query).mappings().all(),
        key=lambda r: (r["node_id"] or "\uffff", r["seq"] or 0, r["id"]),
    )
    now = envelope.format_time(datetime.now(UTC))
    for row in rows:
        item = Incoming(bytes(row["raw"]), row["nats_subject"], row["received_at"])
        try:
            place(item)
        except RefusedError as err:
            conn.execute(
                t.quarantine.update()
                .where(t.quarantine.c.id == row["id"])
                .values(
                    reason=err.reason, detail=err.detail, node_id=err.node_id or row["node_id"], seq=err.seq
                )
            )
            still += 1
            continue
        conn.execute(t.quarantine.update().where(t.quarantine.c.id == row["id"]).values(resolved_at=now))
        resolved += 1
    return resolved, still
