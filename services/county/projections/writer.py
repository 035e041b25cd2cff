"""Writing projections inside the ingest transaction, and rebuilding them from the archive."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, case, delete, func, select, tuple_

from services.county.db import tables as t
from services.county.db.upsert import excluded, insert_ignore, upsert
from services.county.projections.entities import derive_candidate, derive_member, derive_org
from services.county.projections.events import Fact
from services.county.projections.figures import attendance, fact_row
from shared import envelope
from shared.catalog import decode_payload

CHUNK = 500


def fact_from_archive(node_id: str, seq: int, type_: str, occurred_at: str, text: str) -> Fact:
    env = envelope.decode(text.encode())
    return Fact(node_id, seq, occurred_at, type_, decode_payload(type_, env.payload))


def project(conn: Connection, facts: Sequence[Fact], subjects: Iterable[str]) -> None:
    """Bring every projection up to date with newly archived `facts` (same transaction)."""
    insert_ignore(conn, t.facts, [row for f in facts if (row := fact_row(f)) is not None])
    _attendance(conn, facts)
    rederive(conn, sorted(set(subjects)), known=facts)


def _attendance(conn: Connection, facts: Sequence[Fact]) -> None:
    latest: dict[str, dict[str, str]] = defaultdict(dict)
    years: set[tuple[str, int]] = set()
    for fact in facts:
        found = attendance(fact)
        if found is None:
            continue
        kind, attendees = found
        for member_id in attendees:
            prev = latest[member_id].get(kind, "")
            latest[member_id][kind] = max(prev, fact.occurred_at)
            if kind == "training":
                years.add((member_id, int(fact.china_date[:4])))
    rows = [
        {"member_id": mid, "last_orglife_at": d.get("orglife"), "last_trained_at": d.get("training")}
        for mid, d in latest.items()
    ]
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
    insert_ignore(conn, t.trained, [{"member_id": m, "year": y} for m, y in sorted(years)])


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
        write_entities(conn, {s: grouped.get(s, []) for s in chunk})


def write_entities(conn: Connection, by_subject: dict[str, list[Fact]]) -> None:
    """Replace the rows of these subjects with freshly derived ones."""
    members = [s[2:] for s in by_subject if s.startswith("m:")]
    orgs = [s[2:] for s in by_subject if s.startswith("o:")]
    candidates = [s[2:] for s in by_subject if s.startswith("c:")]
    if members:
        conn.execute(delete(t.members).where(t.members.c.member_id.in_(members)))
        conn.execute(delete(t.co_managers).where(t.co_managers.c.member_id.in_(members)))
        conn.execute(delete(t.member_timeline).where(t.member_timeline.c.member_id.in_(members)))
        conn.execute(delete(t.conflicts).where(t.conflicts.c.subject.in_([f"m:{x}" for x in members])))
        member_rows, co_rows, conflict_rows, timeline_rows = [], [], [], []
        for member_id in members:
            derived = derive_member(member_id, by_subject[f"m:{member_id}"])
            if derived.member is not None:
                member_rows.append(derived.member)
            co_rows += derived.co_managers
            conflict_rows += derived.conflicts
            timeline_rows += derived.timeline
        _insert(conn, t.members, member_rows)
        _insert(conn, t.co_managers, co_rows)
        _insert(conn, t.conflicts, conflict_rows)
        _insert(conn, t.member_timeline, timeline_rows)
    _replace(conn, t.orgs, t.orgs.c.org_id, orgs, lambda i: derive_org(i, by_subject[f"o:{i}"]))
    _replace(
        conn,
        t.recruitment,
        t.recruitment.c.candidate_id,
        candidates,
        lambda i: derive_candidate(i, by_subject[f"c:{i}"]),
    )


def _replace(conn: Connection, table: Table, key: Any, ids: list[str], derive: Callable[[str], Any]) -> None:
    if not ids:
        return
    conn.execute(delete(table).where(key.in_(ids)))
    _insert(conn, table, [row for i in ids if (row := derive(i)) is not None])


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def clear(conn: Connection) -> None:
    for table in t.BUSINESS_TABLES:
        conn.execute(delete(table))


def rebuild(conn: Connection, progress: Callable[[int], None] | None = None, chunk: int = 5000) -> int:
    """Drop every business projection and rebuild it from the archive; returns events read."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE archive")  # plan the scans below on real statistics
    clear(conn)
    done = 0
    after: tuple[str, int] = ("", 0)
    while True:
        rows = conn.execute(
            select(
                t.archive.c.node_id,
                t.archive.c.seq,
                t.archive.c.type,
                t.archive.c.occurred_at,
                t.archive.c.envelope,
            )
            .where(tuple_(t.archive.c.node_id, t.archive.c.seq) > tuple_(*after))  # an index range
            .order_by(t.archive.c.node_id, t.archive.c.seq)
            .limit(chunk)
        ).all()
        if not rows:
            break
        facts = [fact_from_archive(*row) for row in rows]
        insert_ignore(conn, t.facts, [r for f in facts if (r := fact_row(f)) is not None])
        _attendance(conn, facts)
        done += len(rows)
        after = (rows[-1][0], rows[-1][1])
        if progress is not None:
            progress(done)
    subjects = [
        s
        for (s,) in conn.execute(
            select(t.archive.c.subject).where(t.archive.c.subject.is_not(None)).distinct()
        )
    ]
    rederive(conn, sorted(subjects))
    return done
