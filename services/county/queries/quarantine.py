"""The quarantine (DESIGN §3.7): messages refused at ingest, kept with their reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from services.county.db import tables as t

PREVIEW_BYTES = 64
PREVIEW_CHARS = 1000
"""Enough to show a whole typical envelope (payload included) as text."""


def quarantine(
    conn: Connection,
    *,
    include_resolved: bool = False,
    node_id: str | None = None,
    reason: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Refused messages (open ones unless `include_resolved`), oldest first, without their raw
    bytes: their length and a preview as hex and as UTF-8 text instead. `limit` None: all of them
    (`tongxin county quarantine list`)."""
    q = t.quarantine.c
    where: list[ColumnElement[bool]] = []
    if not include_resolved:
        where.append(q.resolved_at.is_(None))
    if node_id is not None:
        where.append(q.node_id == node_id)
    if reason is not None:
        where.append(q.reason == reason)
    total = conn.execute(select(func.count()).select_from(t.quarantine).where(*where)).scalar_one()
    rows = conn.execute(select(t.quarantine).where(*where).order_by(q.id).limit(limit).offset(offset))
    items = []
    for r in rows.mappings():
        raw = bytes(r["raw"])
        items.append(
            {
                "id": r["id"],
                "received_at": r["received_at"],
                "nats_subject": r["nats_subject"],
                "node_id": r["node_id"],
                "seq": r["seq"],
                "reason": r["reason"],
                "detail": r["detail"],
                "resolved_at": r["resolved_at"],
                "raw_length": len(raw),
                "preview_hex": raw[:PREVIEW_BYTES].hex(),
                "preview_text": raw.decode("utf-8", errors="replace")[:PREVIEW_CHARS],
            }
        )
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def open_count(conn: Connection) -> int:
    """Quarantined messages not resolved (the metrics' `tongxin_county_quarantine_open`)."""
    q = t.quarantine.c
    query = select(func.count()).select_from(t.quarantine).where(q.resolved_at.is_(None))
    return int(conn.execute(query).scalar_one())
