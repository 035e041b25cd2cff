"""Quarantine (DESIGN §3.7): a refused message is kept with its reason and retried after a fix.

Nothing refused is ever dropped: the raw bytes stay in the quarantine table beside the reason
and the detail naming the field, until a retry archives (or holds) them and marks the row
resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from services.county.db import tables as t
from services.county.ingest.checks import RefusedError
from services.county.ingest.incoming import Incoming
from shared import envelope


def keep(conn: Connection, item: Incoming, err: RefusedError) -> None:
    """Keep a refused message with its reason and raw bytes (never drop it)."""
    conn.execute(
        t.quarantine.insert().values(
            received_at=item.received_at,
            nats_subject=item.subject,
            node_id=err.node_id,
            seq=err.seq,
            reason=err.reason,
            detail=err.detail,
            raw=item.data,
        )
    )


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
                .values(reason=err.reason, detail=err.detail, node_id=err.node_id, seq=err.seq)
            )
            still += 1
            continue
        conn.execute(t.quarantine.update().where(t.quarantine.c.id == row["id"]).values(resolved_at=now))
        resolved += 1
    return resolved, still
