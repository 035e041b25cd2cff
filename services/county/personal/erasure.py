"""Erasure at the county (crypto-shredding): once a `member.erased` is admitted (the county office's
node said it, `authority`), the member's keys and identity index entry are destroyed in the same
transaction that projects it, and the member is listed in `erased_members`, so that no key of
theirs is stored again (a node delivering late is refused) and every view — live, rebuilt,
replayed, as of any date — shows `[已删除]`. The nodes learn of it from `notices`.

Idempotent: applying it again (a rebuild, a redelivery) destroys nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, select

from services.county.personal.tables import erased_members, identity_index, member_keys
from services.county.projections.roster import members
from shared.envelope import format_time

CHUNK = 500


def apply(conn: Connection, member_ids: Iterable[str]) -> int:
    """Destroy the keys of those of these members the roster shows erased; returns how many
    members were erased now (not before)."""
    wanted = sorted(set(member_ids))
    done = 0
    for i in range(0, len(wanted), CHUNK):
        chunk = wanted[i : i + CHUNK]
        m = members.c
        erased = set(conn.execute(select(m.member_id).where(m.member_id.in_(chunk), m.erased)).scalars())
        if not erased:
            continue
        known = set(
            conn.execute(
                select(erased_members.c.member_id).where(erased_members.c.member_id.in_(erased))
            ).scalars()
        )
        conn.execute(delete(member_keys).where(member_keys.c.member_id.in_(erased)))
        conn.execute(delete(identity_index).where(identity_index.c.member_id.in_(erased)))
        fresh = sorted(erased - known)
        if fresh:
            now = format_time(datetime.now(UTC))
            conn.execute(erased_members.insert(), [{"member_id": x, "erased_at": now} for x in fresh])
        done += len(fresh)
    return done


def scrub(engine: Engine) -> None:
    """After a transaction that erased members has committed: leave no copy of the destroyed
    (wrapped) keys in the database's files. SQLite zeroes deleted rows in their pages
    (`secure_delete=FAST`, `db.engine`); its write-ahead log still holds the pages as they were,
    so it is checkpointed and truncated. PostgreSQL keeps deleted rows as dead tuples until a
    vacuum: the key tables (small: a row per member) are rewritten with VACUUM FULL."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM FULL member_keys, identity_index")


def apply_all(conn: Connection) -> int:
    """`apply` for every member the roster shows erased (after a rebuild)."""
    return apply(conn, conn.execute(select(members.c.member_id).where(members.c.erased)).scalars())


def is_erased(conn: Connection, member_id: str) -> bool:
    found = conn.execute(select(erased_members.c.member_id).where(erased_members.c.member_id == member_id))
    return found.first() is not None


def erased_ids(conn: Connection) -> list[str]:
    """Every member erased, oldest erasure first (what the notices to the nodes name)."""
    e = erased_members.c
    return list(conn.execute(select(e.member_id).order_by(e.erased_at, e.member_id)).scalars())
