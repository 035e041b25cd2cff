"""Corrections of events about no entity — funds, pioneer work, organisational life, training: their
versions in `facts`, attendance derived again, the refused ones listed.

A correction is filed in the archive under its target's entity (`subjects`); one whose target is
about no entity (subject NULL) is applied here, live after the batch's other events and at the
end of a rebuild or replay: every corrected event it names is decided again from the archive —
the event and every correction of it (`authority.corrections.resolve`) — and its `facts` rows are
written anew, one per version (`figures`); the attendance of everyone any version names is derived
again from every attendance record in effect (the `activity` maxima cannot be taken back).
Corrections are rare; each costs a read of its node's corrections, and one of orglife/training a
read of every orglife and training event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, or_, select, tuple_

from services.county.authority.corrections import Resolved, is_correction, resolve
from services.county.authority.rules import judge
from services.county.authority.screen import Speakers, screen_events
from services.county.db import tables as t
from services.county.db.bulk import insert_all
from services.county.projections import attendance, claims, figures
from services.county.projections.fact import Fact, fact_from_archive
from shared.catalog.correction import CORRECTION_TYPES

Ref = tuple[str, int]


def target_subjects(
    conn: Connection, corrections: Sequence[Fact], known: dict[Ref, str | None]
) -> dict[Ref, str | None]:
    """The entity each correction is filed under (its target's subject; None: about no entity, or
    no such earlier event), by the correction's (node, seq); `known`: the subjects of events not
    archived yet (this batch's)."""
    out: dict[Ref, str | None] = {}
    wanted: dict[Ref, list[Ref]] = defaultdict(list)
    for c in corrections:
        target = (c.node_id, c.body.target_seq)  # type: ignore[attr-defined]
        if target[1] >= c.seq:
            out[(c.node_id, c.seq)] = None
        elif target in known:
            out[(c.node_id, c.seq)] = known[target]
        else:
            wanted[target].append((c.node_id, c.seq))
    if wanted:
        a = t.archive.c
        found = dict.fromkeys(wanted, None) | {
            (n, s): subject
            for n, s, subject in conn.execute(
                select(a.node_id, a.seq, a.subject).where(tuple_(a.node_id, a.seq).in_(list(wanted)))
            )
        }
        for target, refs in wanted.items():
            for ref in refs:
                out[ref] = found[target]
    return out


def apply(
    conn: Connection, corrections: Sequence[Fact], speakers: Speakers, archive: Connection | None = None
) -> None:
    """Apply these corrections about no entity (archived in `archive`, default `conn`): each
    target's `facts` versions and the corrections' verdicts written anew, attendance derived again."""
    if not corrections:
        return
    src = archive if archive is not None else conn
    by_node: dict[str, set[int]] = defaultdict(set)
    for c in corrections:
        by_node[c.node_id].add(c.body.target_seq)  # type: ignore[attr-defined]
    attendees: set[str] = set()
    for node_id, seqs in sorted(by_node.items()):
        for group in _groups(src, node_id, seqs):
            resolved = resolve(group, speakers.of)
            _write(conn, group, resolved, speakers)
            for fact in group:
                for version in resolved.versions.get((fact.node_id, fact.seq), []):
                    if version.fact is not None:
                        attendees.update((attendance.attended(version.fact) or ("", []))[1])
    if attendees:
        rederive_attendance(conn, attendees, speakers, src)


def _groups(src: Connection, node_id: str, seqs: set[int]) -> Iterable[list[Fact]]:
    """Per target seq of `node_id`: the target (if archived) and every correction about no entity
    that names it."""
    a = t.archive.c
    columns = (a.node_id, a.seq, a.type, a.occurred_at, a.envelope)
    loose = src.execute(
        select(*columns).where(a.node_id == node_id, a.subject.is_(None), a.type.in_(CORRECTION_TYPES))
    )
    naming: dict[int, list[Fact]] = defaultdict(list)
    for row in loose:
        fact = fact_from_archive(*row)
        naming[fact.body.target_seq].append(fact)  # type: ignore[attr-defined]
    targets = {
        fact.seq: fact
        for fact in (
            fact_from_archive(*row)
            for row in src.execute(select(*columns).where(a.node_id == node_id, a.seq.in_(seqs)))
        )
    }
    for seq in sorted(seqs):
        yield ([targets[seq]] if seq in targets else []) + naming.get(seq, [])


def _write(conn: Connection, group: list[Fact], resolved: Resolved, speakers: Speakers) -> None:
    """The `facts` rows of the group's target, one per version, and the corrections' verdicts."""
    fc = figures.facts.c
    node_id = group[0].node_id
    corrections = [f.seq for f in group if is_correction(f)]
    conn.execute(
        delete(claims.refused_claims).where(
            claims.refused_claims.c.node_id == node_id, claims.refused_claims.c.seq.in_(corrections)
        )
    )
    claims.write(conn, claims.rows(resolved.refused))
    target = next((f for f in group if not is_correction(f)), None)
    if target is None:
        return
    conn.execute(
        delete(figures.facts).where(
            fc.node_id == node_id, or_(fc.seq == target.seq, fc.version_of == target.seq)
        )
    )
    rows = []
    for v in resolved.versions.get((node_id, target.seq), []):
        original = v.by is target
        if v.fact is None or (original and judge(speakers.of(node_id), target.body) is not None):
            continue
        row = figures.fact_row(v.fact, v.by.seq, None if original else target.seq, v.valid_from, v.valid_to)
        if row is not None:
            rows.append(row)
    if (node_id, target.seq) not in resolved.versions:  # every correction of it refused
        admitted = screen_events([target], speakers).admitted
        rows += [r for f in admitted if (r := figures.fact_row(f)) is not None]
    insert_all(conn, figures.facts, rows)


def rederive_attendance(conn: Connection, member_ids: set[str], speakers: Speakers, src: Connection) -> None:
    """The `activity` and `trained` rows of these members derived again from every orglife and
    training record in effect (each event as its corrections leave it, as the screen admits it)."""
    a = t.archive.c
    columns = (a.node_id, a.seq, a.type, a.occurred_at, a.envelope)
    fixes: dict[Ref, list[Fact]] = defaultdict(list)
    for row in src.execute(select(*columns).where(a.subject.is_(None), a.type.in_(CORRECTION_TYPES))):
        fact = fact_from_archive(*row)
        fixes[(fact.node_id, fact.body.target_seq)].append(fact)  # type: ignore[attr-defined]
    seen = attendance.Attendance()
    query = select(*columns).where(a.subject.is_(None), a.type.in_(attendance.PROJECTION.claims))
    for rows in src.execute(query.execution_options(stream_results=True, yield_per=2000)).partitions():
        current = []
        for row in rows:
            fact = fact_from_archive(*row)
            found = fixes.get((fact.node_id, fact.seq))
            current += resolve([fact, *found], speakers.of).facts if found else [fact]
        seen.add(f for f in screen_events(current, speakers).admitted if _names(f, member_ids))
    ids = sorted(member_ids)
    for table in (attendance.activity, attendance.trained):
        for i in range(0, len(ids), 500):
            conn.execute(delete(table).where(table.c.member_id.in_(ids[i : i + 500])))
    insert_all(conn, attendance.activity, [r for r in seen.activity_rows() if r["member_id"] in member_ids])
    insert_all(conn, attendance.trained, [r for r in seen.trained_rows() if r["member_id"] in member_ids])


def _names(fact: Fact, member_ids: set[str]) -> bool:
    found = attendance.attended(fact)
    return found is not None and not member_ids.isdisjoint(found[1])
