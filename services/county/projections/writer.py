"""Writing projections inside the ingest transaction, and rebuilding them from the archive."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, case, delete, func, select

from services.county.db import tables as t
from services.county.db.upsert import excluded, insert_ignore, upsert
from services.county.projections.bulk import insert_all
from services.county.projections.entities import derive_candidate, derive_member, derive_org
from services.county.projections.events import Fact
from services.county.projections.figures import attendance, fact_row
from shared.catalog import event_class

CHUNK = 500


def fact_from_archive(node_id: str, seq: int, type_: str, occurred_at: str, text: str) -> Fact:
    """An archived event as a Fact. The archive holds only envelopes that verified when they
    arrived, so the payload is decoded straight from the stored text, in one pass, with the
    catalog's own types (and their checks); the envelope's other fields are skipped."""
    return Fact(node_id, seq, occurred_at, type_, _stored(type_).decode(text).payload)


@functools.cache
def _stored(type_: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(msgspec.defstruct(f"Stored_{type_}", [("payload", event_class(type_))]))


def project(conn: Connection, facts: Sequence[Fact], subjects: Iterable[str]) -> None:
    """Bring every projection up to date with newly archived `facts` (same transaction)."""
    insert_all(conn, t.facts, [row for f in facts if (row := fact_row(f)) is not None])  # new keys
    _attendance(conn, facts)
    rederive(conn, sorted(set(subjects)), known=facts)


def _attendance(conn: Connection, facts: Sequence[Fact]) -> None:
    """Fold the attendance of these events into `activity` (latest dates) and `trained`."""
    seen = Attendance()
    seen.add(facts)
    rows = seen.activity_rows()
    if rows:
        new = excluded(conn, t.activity)
        set_ = {
            col: case(
                (func.coalesce(new[col], "") > func.coalesce(t.activity.c[col], ""), new[col]),
                else_=t.activity.c[col],
            )
            for col in ("last_orglife_at", "last_trained_at")
        }
        upsert(conn, t.activity, rows, set_)
    insert_ignore(conn, t.trained, seen.trained_rows())


class Attendance:
    """Each member's latest organisational life and training, and the years trained (maxima and
    sets: the same whatever order the events come in)."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, str]] = defaultdict(dict)
        self.years: set[tuple[str, int]] = set()

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            found = attendance(fact)
            if found is None:
                continue
            kind, attendees = found
            for member_id in attendees:
                prev = self.latest[member_id].get(kind, "")
                self.latest[member_id][kind] = max(prev, fact.occurred_at)
                if kind == "training":
                    self.years.add((member_id, int(fact.china_date[:4])))

    def activity_rows(self) -> list[dict[str, Any]]:
        return [
            {"member_id": mid, "last_orglife_at": d.get("orglife"), "last_trained_at": d.get("training")}
            for mid, d in self.latest.items()
        ]

    def trained_rows(self) -> list[dict[str, Any]]:
        return [{"member_id": m, "year": y} for m, y in sorted(self.years)]

    def insert(self, conn: Connection) -> None:
        """Write it all into empty `activity` and `trained` tables (rebuild, replay)."""
        insert_all(conn, t.activity, self.activity_rows())
        insert_all(conn, t.trained, self.trained_rows())


def rederive(conn: Connection, subjects: Sequence[str], known: Sequence[Fact] = ()) -> None:
    """Re-derive the entities named by `subjects` from all of their archived events.

    `known`: events of this transaction, already decoded; only older events are read back and
    decoded (a new member's registration needs no read at all).
    """
    by_ref = {(f.node_id, f.seq): f for f in known}
    a = t.archive.c
    for i in range(0, len(subjects), CHUNK):
        chunk = subjects[i : i + CHUNK]
        grouped: dict[str, list[Fact]] = defaultdict(list)
        older: set[str] = set()
        for subject, node_id, seq in conn.execute(
            select(a.subject, a.node_id, a.seq).where(a.subject.in_(chunk))
        ):
            fact = by_ref.get((node_id, seq))
            if fact is None:
                older.add(subject)
            else:
                grouped[subject].append(fact)
        if older:
            query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope, a.subject)
            for node_id, seq, type_, occurred_at, text, subject in conn.execute(
                query.where(a.subject.in_(older))
            ):
                if (node_id, seq) not in by_ref:
                    grouped[subject].append(fact_from_archive(node_id, seq, type_, occurred_at, text))
        # a subject none of whose events is older than this transaction has no rows yet
        write_entities(conn, {s: grouped.get(s, []) for s in chunk}, replace={s for s in chunk if s in older})


def write_entities(
    conn: Connection, by_subject: dict[str, list[Fact]], replace: Collection[str] | None = None
) -> None:
    """Replace the rows of these subjects with freshly derived ones; only the rows of the
    subjects in `replace` (default: all) are deleted first, the others have none."""
    members = [s[2:] for s in by_subject if s.startswith("m:")]
    orgs = [s[2:] for s in by_subject if s.startswith("o:")]
    candidates = [s[2:] for s in by_subject if s.startswith("c:")]
    old = [s for s in by_subject if replace is None or s in replace]
    old_members = [s[2:] for s in old if s.startswith("m:")]
    if old_members:
        conn.execute(delete(t.members).where(t.members.c.member_id.in_(old_members)))
        conn.execute(delete(t.co_managers).where(t.co_managers.c.member_id.in_(old_members)))
        conn.execute(delete(t.member_timeline).where(t.member_timeline.c.member_id.in_(old_members)))
        conn.execute(delete(t.conflicts).where(t.conflicts.c.subject.in_([f"m:{x}" for x in old_members])))
    if members:
        member_rows, co_rows, conflict_rows, timeline_rows = [], [], [], []
        for member_id in members:
            derived = derive_member(member_id, by_subject[f"m:{member_id}"])
            if derived.member is not None:
                member_rows.append(derived.member)
            co_rows += derived.co_managers
            conflict_rows += derived.conflicts
            timeline_rows += derived.timeline
        insert_all(conn, t.members, member_rows)
        insert_all(conn, t.co_managers, co_rows)
        insert_all(conn, t.conflicts, conflict_rows)
        insert_all(conn, t.member_timeline, timeline_rows)
    old_orgs = [s[2:] for s in old if s.startswith("o:")]
    old_candidates = [s[2:] for s in old if s.startswith("c:")]
    if old_orgs:
        conn.execute(delete(t.orgs).where(t.orgs.c.org_id.in_(old_orgs)))
    if old_candidates:
        conn.execute(delete(t.recruitment).where(t.recruitment.c.candidate_id.in_(old_candidates)))
    insert_all(conn, t.orgs, [row for i in orgs if (row := derive_org(i, by_subject[f"o:{i}"])) is not None])
    reviews = [derive_candidate(i, by_subject[f"c:{i}"]) for i in candidates]
    insert_all(conn, t.recruitment, [row for row in reviews if row is not None])


def clear(conn: Connection) -> None:
    for table in t.BUSINESS_TABLES:
        conn.execute(delete(table))


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
    together, subject after subject. The tables start empty, so rows are only inserted, never
    replaced. The archive is read from `source` (default: `conn` itself; a full replay reads
    the audited database and writes a scratch)."""
    src = conn if source is None else source
    if source is None and conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE archive")  # plan the scans below on real statistics
    clear(conn)
    seen = Attendance()
    a = t.archive.c
    done = 0
    query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope).where(a.subject.is_(None))
    # no ORDER BY: sorting every page of (node_id, seq) cost SQLite a temporary B-tree of all
    # of them per page; streamed (a server-side cursor on PostgreSQL), a chunk at a time
    result = src.execute(query.execution_options(stream_results=True, yield_per=chunk))
    for rows in result.partitions():
        add_figures(conn, [fact_from_archive(*row) for row in rows], seen)
        done += len(rows)
        if progress is not None:
            progress(done)
    step = (lambda n: progress(done + n)) if progress is not None else None
    done += derive_entities(conn, seen, step, source=src)
    seen.insert(conn)
    return done


def add_figures(conn: Connection, facts: Sequence[Fact], seen: Attendance) -> None:
    """Insert the figures rows of newly read events and note their attendance (rebuild, replay)."""
    insert_all(conn, t.facts, [row for f in facts if (row := fact_row(f)) is not None])
    seen.add(facts)


def derive_entities(
    conn: Connection,
    seen: Attendance,
    progress: Callable[[int], None] | None = None,
    chunk: int = 500,
    *,
    source: Connection | None = None,
) -> int:
    """Derive every entity of the archive (of `source`, default `conn`) into empty
    tables, `chunk` subjects at a time (each read as one index range); their events' figures and
    attendance go in too. Returns events read."""
    src = conn if source is None else source
    a = t.archive.c
    # in the database's own order, so that each chunk is exactly the range between its ends
    distinct = select(a.subject).where(a.subject.is_not(None)).distinct().order_by(a.subject)
    subjects = list(src.execute(distinct).scalars())
    done = 0
    for i in range(0, len(subjects), chunk):
        part = subjects[i : i + chunk]
        grouped: dict[str, list[Fact]] = {s: [] for s in part}
        query = select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope, a.subject)
        for node_id, seq, type_, occurred_at, text, subject in src.execute(
            query.where(a.subject >= part[0], a.subject <= part[-1])
        ):
            grouped[subject].append(fact_from_archive(node_id, seq, type_, occurred_at, text))
        facts = [f for fs in grouped.values() for f in fs]
        add_figures(conn, facts, seen)
        write_entities(conn, grouped, replace=())
        done += len(facts)
        if progress is not None:
            progress(done)
    return done
