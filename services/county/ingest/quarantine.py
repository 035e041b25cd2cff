"""Quarantine (DESIGN §3.7): a refused message is kept with its reason and retried after a fix.

Nothing refused is ever dropped: the raw bytes stay in the quarantine table beside the reason
and the detail naming the field, until a retry archives (or holds) them and marks the row
resolved. A row is keyed by its content (`digest_of` subject and bytes), so a message delivered
again — redelivery, a consumer re-reading the stream — is kept once. A message on a node's events
subject counts against that node even when nothing in it can be read.

What goes into the row's text columns is made fit for both databases first (PostgreSQL's text
holds no NUL, its varchar columns have lengths): a subject or node id that no Tongxin node could
have is cut or left out, the detail has its control characters escaped; the raw bytes stay whole.
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
from shared.bounds import MAX_SEQ
from shared.ids import is_slug
from shared.wire import parse_subject

MAX_SUBJECT = 200
"""The quarantine's `nats_subject` column: a longer subject is kept cut to this."""
MAX_DETAIL = 2000
"""A detail longer than this is cut (the raw bytes say the rest)."""


def digest_of(subject: str, raw: bytes) -> str:
    """What keys a quarantined message: SHA-256 of its subject, a NUL and its bytes."""
    return hashlib.sha256(subject.encode() + b"\0" + raw).hexdigest()


def keep(conn: Connection, item: Incoming, err: RefusedError) -> None:
    """Keep a refused message with its reason and raw bytes (never drop it), once per content."""
    parsed = parse_subject(item.subject)
    row = {
        "received_at": item.received_at,
        "nats_subject": _printable(item.subject)[:MAX_SUBJECT],
        **_refusal(err, parsed.node_id if parsed is not None else None),
        "raw": item.data,
        "digest": digest_of(item.subject, item.data),
    }
    insert_ignore(conn, t.quarantine, [row])


def _refusal(err: RefusedError, node_id: str | None) -> dict[str, object]:
    """The columns that say why: node and seq where a Tongxin node could have them, the detail
    printable and cut to MAX_DETAIL."""
    node_id = err.node_id or node_id
    return {
        "node_id": node_id if node_id is not None and is_slug(node_id) else None,
        "seq": err.seq if err.seq is not None and 0 < err.seq <= MAX_SEQ else None,
        "reason": err.reason,
        "detail": _printable(err.detail)[:MAX_DETAIL],
    }


def _printable(text: str) -> str:
    """`text` with each control character (and lone surrogate) written as its escape."""
    return "".join(c if c.isprintable() or c in "\t\n " else repr(c)[1:-1] for c in text)


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
                .values(**_refusal(err, row["node_id"]))
            )
            still += 1
            continue
        conn.execute(t.quarantine.update().where(t.quarantine.c.id == row["id"]).values(resolved_at=now))
        resolved += 1
    return resolved, still
