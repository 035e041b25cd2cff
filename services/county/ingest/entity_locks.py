"""No two ingest workers derive the same member or organisation at once (PostgreSQL).

A batch's transaction takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`) on every
entity it re-derives, before it reads the entity's archive to derive it, in ascending key order
(two batches never wait on each other in a cycle). The lock is released by the commit, so the
next batch about the same entity — from a node another worker owns — derives it after this one
committed, and its read (READ COMMITTED: a fresh snapshot per statement) sees both nodes'
events: the same rows as one worker deriving them in either order (projections do not depend on
arrival order: the convergence guarantee). Events about no entity (figures' rows) are rows of
their own event, keyed by (node, seq), which no other worker writes; corrections target their own
node's events, which the same worker owns. Attendance is the exception: an organisational life or
a lesson at one node moves the `activity` and `trained` rows of attendees another worker may be
deriving, and a correction of one re-derives those rows (delete, then insert). Live attendance is
a commutative upsert, but not beside that re-derivation: every batch with attendance or a
correction of an event about no entity also takes the one lock `ATTENDANCE` (in the same sorted
acquisition) — such batches of different workers run one at a time
(tests/county/test_convergence_workers.py found it: duplicate `activity` rows). SQLite has one
ingest process only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection, text

from services.county.projections.attendance import PROJECTION as ATTENDANCE_PROJECTION
from services.county.projections.fact import Fact

ATTENDANCE = "attendance:rows"
"""The lock of the members' `activity` and `trained` rows as a whole."""

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


def subjects_to_hold(facts: Iterable[Fact], subjects: set[str], loose: list[Fact]) -> set[str]:
    """What a batch locks: the entities it re-derives, and `ATTENDANCE` when it folds attendance
    or corrects an event about no entity (whose re-derivation rewrites attendance rows)."""
    if loose or any(f.type in ATTENDANCE_PROJECTION.claims for f in facts):
        return subjects | {ATTENDANCE}
    return subjects
