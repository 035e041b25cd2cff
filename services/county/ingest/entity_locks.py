"""No two ingest workers derive the same member or organisation at once (PostgreSQL).

A batch's transaction takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`) on every
entity it re-derives, before it reads the entity's archive to derive it, in ascending key order
(two batches never wait on each other in a cycle). The lock is released by the commit, so the
next batch about the same entity — from a node another worker owns — derives it after this one
committed, and its read (READ COMMITTED: a fresh snapshot per statement) sees both nodes'
events: the same rows as one worker deriving them in either order (projections do not depend on
arrival order: the convergence guarantee). Events about no entity (figures' rows, attendance)
are rows of their own event, keyed by (node, seq), which no other worker writes; corrections
target their own node's events, which the same worker owns. SQLite has one ingest process only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection, text

_LOCK = text(
    "SELECT count(pg_advisory_xact_lock(k))"
    " FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS s"
)


def lock_key(subject: str) -> int:
    """A subject's 64-bit advisory lock key (signed, as PostgreSQL's bigint)."""
    return int.from_bytes(
        hashlib.sha256(b"tongxin-entity:" + subject.encode()).digest()[:8], "big", signed=True
    )


def hold(conn: Connection, subjects: Iterable[str]) -> None:
    """Lock `subjects` until the transaction ends (PostgreSQL; nothing on SQLite)."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({lock_key(s) for s in subjects})
    if keys:
        conn.execute(_LOCK, {"keys": keys})
