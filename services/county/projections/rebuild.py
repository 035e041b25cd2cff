"""Rebuilding every business projection from the archive (`county rebuild`, replays, guarantee 5).

The screen decides every event here as it does live (`live.fold`, `live.write_entities`), so an
archive accepted before the rule existed is decided by it on its first rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, delete, select

from services.county.authority import speakers as enrolled
from services.county.authority.corrections import is_correction
from services.county.authority.screen import Speakers
from services.county.db import tables as t
from services.county.personal import erasure
from services.county.projections import corrections
from services.county.projections.fact import Fact, fact_from_archive
from services.county.projections.live import fold, write_entities
from services.county.projections.registry import BUSINESS_TABLES, FOLD_PROJECTIONS, KIND_OF_TYPE


def clear(conn: Connection) -> None:
    for table in BUSINESS_TABLES:
        conn.execute(delete(table))


class Rebuilding:
    """Every fold projection folding into its empty tables: `add` events about no entity as they
    are read (each fold sees the types it claims, of those the screen admits; the refused claims
    are written), `finish` once all have been, then the corrections among them are applied
    (`corrections.apply`, reading the archive in `archive`, default `conn`). `speakers`: who each
    node is, as enrolled."""

    def __init__(self, conn: Connection, speakers: Speakers, archive: Connection | None = None) -> None:
        self.conn = conn
        self.speakers = speakers
        self.archive = archive
        self.folds = [(p.claims, p.start(conn)) for p in FOLD_PROJECTIONS]
        self.corrections: list[Fact] = []

    def add(self, facts: Sequence[Fact]) -> None:
        self.corrections += [f for f in facts if is_correction(f)]
        about_none = [f for f in facts if f.type not in KIND_OF_TYPE and not is_correction(f)]
        admitted = fold(self.conn, about_none, self.speakers)
        for claims, folding in self.folds:
            claimed = [f for f in admitted if f.type in claims]
            if claimed:
                folding.add(claimed)

    def finish(self) -> None:
        for _, folding in self.folds:
            folding.finish()
        corrections.apply(self.conn, self.corrections, self.speakers, self.archive)


def rebuild(
    conn: Connection,
    progress: Callable[[int], None] | None = None,
    chunk: int = 5000,
    *,
    source: Connection | None = None,
) -> int:
    """Drop every business projection and rebuild it from the archive; returns events read.

    Every archived event is read and decoded once: first the events about no entity (figures,
    attendance; their order does not matter) in one streamed scan, then each entity's events
    together, entity after entity. The tables start empty, so rows are only inserted, never
    replaced. The archive is read from `source` (default: `conn` itself; a full replay reads
    the audited database and writes a scratch)."""
    src = conn if source is None else source
    if source is None and conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE archive")  # plan the scans below on real statistics
    clear(conn)
    folding = Rebuilding(conn, enrolled.load(src), src)
    a = t.archive.c
    done = 0
    query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope).where(a.subject.is_(None))
    # no ORDER BY: sorting every page of (node_id, seq) cost SQLite a temporary B-tree of all
    # of them per page; streamed (a server-side cursor on PostgreSQL), a chunk at a time
    result = src.execute(query.execution_options(stream_results=True, yield_per=chunk))
    for rows in result.partitions():
        folding.add([fact_from_archive(*row) for row in rows])
        done += len(rows)
        if progress is not None:
            progress(done)
    step = (lambda n: progress(done + n)) if progress is not None else None
    done += derive_entities(conn, folding, step, source=src)
    folding.finish()
    if source is None:  # the county's own database: an erasure the rebuilt roster shows holds
        erasure.apply_all(conn)
    return done


def derive_entities(
    conn: Connection,
    folding: Rebuilding,
    progress: Callable[[int], None] | None = None,
    chunk: int = 500,
    *,
    source: Connection | None = None,
) -> int:
    """Derive every entity of the archive (of `source`, default `conn`) into empty tables, `chunk`
    entities at a time (each read as one index range), screened as `folding.speakers` say. No fold
    projection claims a type about an entity (a test holds that), so they are not folded. Returns
    events read."""
    src = conn if source is None else source
    a = t.archive.c
    # in the database's own order, so that each chunk is exactly the range between its ends
    distinct = select(a.subject).where(a.subject.is_not(None)).distinct().order_by(a.subject)
    entities = list(src.execute(distinct).scalars())
    done = 0
    for i in range(0, len(entities), chunk):
        part = entities[i : i + chunk]
        grouped: dict[str, list[Fact]] = {e: [] for e in part}
        query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope, a.subject)
        for node_id, seq, type_, occurred_at, text, entity in src.execute(
            query.where(a.subject >= part[0], a.subject <= part[-1])
        ):
            grouped[entity].append(fact_from_archive(node_id, seq, type_, occurred_at, text))
        write_entities(conn, grouped, folding.speakers, replace=())
        done += sum(len(fs) for fs in grouped.values())
        if progress is not None:
            progress(done)
    return done
