"""Attendance as of a business time D: each member's latest organisational life and training by D.

The `activity` projection keeps only each member's latest attendance, which is enough unless it is
after D; then the orglife and training events that occurred by D are searched from the latest back.
Unless an attendance record was corrected or voided after D: then `activity` and `trained` (which
follow the records in effect now) are not what held at D, and the records in effect at D are read
(`derived`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from services.county.projections import attendance, figures
from services.county.projections.attendance import attended
from services.county.queries.asof import CHUNK, AsOf
from services.county.queries.versions import in_effect, records
from shared.catalog.base import CHINA_STANDARD_TIME

ATTENDED = ("orglife.held", "training.held")


@dataclass
class Attended:
    """A member's latest organisational life and training by D, and the years trained by D."""

    last_orglife_at: str | None = None
    last_trained_at: str | None = None
    trained_years: tuple[int, ...] = ()


def attendance_as_of(conn: Connection, member_ids: Sequence[str], point: AsOf) -> dict[str, Attended]:
    """Attendance by D. The `activity` projection keeps only each member's latest attendance;
    where that is after D, the orglife/training events that occurred by D are searched from the
    latest back, until every such member is found (or the events run out)."""
    if changed_after(conn, point):
        return derived(conn, member_ids, point)
    act, years = _activity(conn, member_ids)
    out: dict[str, Attended] = {}
    pending: dict[str, set[str]] = {}
    for mid in member_ids:
        last = act.get(mid, {"orglife": None, "training": None})
        late = {kind for kind, at in last.items() if at is not None and at > point.moment}
        found = {kind: (None if kind in late else at) for kind, at in last.items()}
        out[mid] = Attended(found["orglife"], found["training"])
        if late:
            pending[mid] = late
    if pending:
        _search(conn, pending, point, out)
    for mid, row in out.items():
        trained = {y for y in years.get(mid, ()) if y < point.day.year}
        if row.last_trained_at is not None and _china_year(row.last_trained_at) == point.day.year:
            trained.add(point.day.year)
        row.trained_years = tuple(sorted(trained))
    return out


def changed_after(conn: Connection, point: AsOf) -> bool:
    """Whether an attendance record in effect at D was corrected or voided after D."""
    fc = figures.facts.c
    query = select(fc.seq).where(fc.type.in_(ATTENDED), fc.valid_to > point.moment).limit(1)
    return conn.execute(query).first() is not None


def derived(conn: Connection, member_ids: Sequence[str], point: AsOf) -> dict[str, Attended]:
    """Attendance by D from every orglife and training record in effect at D that occurred by D."""
    fc = figures.facts.c
    query = select(fc.node_id, fc.seq, fc.version_of).where(
        fc.type.in_(ATTENDED), fc.occurred_on <= point.day.isoformat(), in_effect(point.moment)
    )
    seen = attendance.Attendance()
    seen.add(
        f for f in records(conn, [tuple(r) for r in conn.execute(query)]) if f.occurred_at <= point.moment
    )
    years: dict[str, set[int]] = defaultdict(set)
    for member_id, year in seen.years:
        years[member_id].add(year)
    out = {}
    for mid in member_ids:
        latest = seen.latest.get(mid, {})
        out[mid] = Attended(latest.get("orglife"), latest.get("training"), tuple(sorted(years[mid])))
    return out


def _china_year(moment: str) -> int:
    return datetime.fromisoformat(moment).astimezone(CHINA_STANDARD_TIME).year


def _activity(
    conn: Connection, member_ids: Sequence[str]
) -> tuple[dict[str, dict[str, str | None]], dict[str, list[int]]]:
    ac, tr = attendance.activity.c, attendance.trained.c
    act: dict[str, dict[str, str | None]] = {}
    years: dict[str, list[int]] = defaultdict(list)
    for i in range(0, len(member_ids), CHUNK):
        chunk = member_ids[i : i + CHUNK]
        for mid, orglife, training in conn.execute(
            select(ac.member_id, ac.last_orglife_at, ac.last_trained_at).where(ac.member_id.in_(chunk))
        ):
            act[mid] = {"orglife": orglife, "training": training}
        for mid, year in conn.execute(select(tr.member_id, tr.year).where(tr.member_id.in_(chunk))):
            years[mid].append(int(year))
    return act, years


def _search(conn: Connection, pending: dict[str, set[str]], point: AsOf, out: dict[str, Attended]) -> None:
    """Latest attendance by D for the (member, kind) pairs in `pending`: the orglife and training
    events are read newest day first, a few whole days at a time, until nothing is pending."""
    fc = figures.facts.c
    query = select(fc.occurred_on, fc.node_id, fc.seq, fc.version_of).where(
        fc.type.in_(ATTENDED), fc.occurred_on <= point.day.isoformat(), in_effect(point.moment)
    )
    refs = sorted(conn.execute(query).all(), key=lambda r: (r[0], r[1], r[2]), reverse=True)
    kinds = {"orglife": "last_orglife_at", "training": "last_trained_at"}
    for keys in _whole_days(refs):
        facts = [f for f in records(conn, keys) if f.occurred_at <= point.moment]
        for fact in sorted(facts, key=lambda f: f.order, reverse=True):
            kind, attendees = attended(fact) or ("", [])
            for mid in attendees:
                if kind in pending.get(mid, ()):
                    setattr(out[mid], kinds[kind], fact.occurred_at)
                    pending[mid].discard(kind)
                    if not pending[mid]:
                        del pending[mid]
        if not pending:
            return


def _whole_days(refs: Sequence[Any], size: int = 2000) -> Iterator[list[tuple[str, int, int | None]]]:
    """(node_id, seq, version_of) of `refs` (newest day first) in chunks of about `size` that end
    with a day, so that every event of a later chunk occurred before every event of an earlier one."""
    chunk: list[tuple[str, int, int | None]] = []
    day = ""
    for on, node_id, seq, version_of in refs:
        if len(chunk) >= size and on != day:
            yield chunk
            chunk = []
        chunk.append((node_id, seq, version_of))
        day = on
    if chunk:
        yield chunk
