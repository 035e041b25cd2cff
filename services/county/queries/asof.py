"""Reading the projections as of a business time D (`as_of`): the member timeline and what it lacks.

A member is on the roster as of D when a `member_timeline` row has valid_from <= D < valid_to
(valid_to NULL: still valid); that row gives the status, the placement (home branch, outstation,
host location, host organisation), the name and the cross posts. What the timeline does not
version — status_since, occupation, study account, conflicts, a candidate's dual review — is
re-derived here with the live derivation (`roster.history`) from the member's archived events that
occurred by D, and attendance from the orglife/training events that occurred by D. So `as_of`
now equals the live projections by construction, and `as_of` D equals a rebuild from only the
events that occurred by D (tested through `as_of_digest`).

Times are compared as canonical UTC text (`2026-03-01T02:00:00.000000Z`), as stored.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from services.county.db import tables as t
from services.county.projections import attendance, figures, roster
from services.county.projections.attendance import attended
from services.county.projections.dual_management import co_managers_of
from services.county.projections.fact import Fact, fact_from_archive
from services.county.projections.recruitment import derive_candidate
from services.county.projections.roster import MemberHistory, history
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.envelope import canonical, format_time
from shared.errors import FieldError

CHUNK = 500
END_OF_DAY = time(23, 59, 59, 999999)
ROSTER_FIELDS = (
    "member_id",
    "name",
    "home_branch",
    "outstation",
    "host_location",
    "host_org",
    "status",
    "cross_posts",
)
"""A timeline row as the as-of roster (and its digest) sees it: the state, not the row's extent."""
UNVERSIONED = (
    "status_since",
    "occupation",
    "flowed_out_on",
    "registered_by",
    "registered_at",
    "study_account",
)
"""Roster columns the timeline does not carry: derived from the member's events up to D."""
ATTENDED = ("orglife.held", "training.held")


@dataclass(frozen=True)
class AsOf:
    """A point in business time: `moment` (canonical UTC text) and its China date `day`.

    A date means the end of that day in China Standard Time (23:59:59.999999 +08:00)."""

    moment: str
    day: date
    given: str
    """As the caller gave it: `YYYY-MM-DD` for a date, else the canonical time."""

    @classmethod
    def of_day(cls, day: date) -> AsOf:
        moment = format_time(datetime.combine(day, END_OF_DAY, CHINA_STANDARD_TIME))
        return cls(moment, day, day.isoformat())

    @classmethod
    def of_time(cls, moment: datetime, field: str = "as_of") -> AsOf:
        text = format_time(moment, field)
        return cls(text, moment.astimezone(CHINA_STANDARD_TIME).date(), text)


def parse_point(text: str, field: str = "as_of") -> AsOf:
    """`YYYY-MM-DD` (end of that China day) or an RFC 3339 time with a zone; else a FieldError."""
    value = text.strip()
    try:
        if len(value) == 10:
            return AsOf.of_day(date.fromisoformat(value))
        return AsOf.of_time(datetime.fromisoformat(value.replace("z", "Z")), field)
    except ValueError as exc:
        if isinstance(exc, FieldError):
            raise
        raise FieldError(field, "expected a date (YYYY-MM-DD) or a time with a zone (RFC 3339)") from None


def valid_at(moment: str) -> ColumnElement[bool]:
    """The timeline rows valid at `moment`: valid_from <= D < coalesce(valid_to, ∞)."""
    tl = roster.member_timeline.c
    return and_(tl.valid_from <= moment, or_(tl.valid_to.is_(None), tl.valid_to > moment))


def co_managers(row: Mapping[Any, Any]) -> list[dict[str, Any]]:
    """Co-managers by a timeline row, by the live rule: outstation and host organisation while the
    member is out or contact lost, cross posts while not transferred out."""
    posts = {org: post for org, post in json.loads(row["cross_posts"])}
    state = {"status": row["status"], "outstation": row["outstation"], "host_org": row["host_org"]}
    return co_managers_of(row["member_id"], state, posts)


def _events(conn: Connection, subjects: Sequence[str], moment: str) -> dict[str, list[Fact]]:
    """The archived events about `subjects` that occurred by `moment`, decoded."""
    a = t.archive.c
    found: dict[str, list[Fact]] = defaultdict(list)
    for i in range(0, len(subjects), CHUNK):
        rows = conn.execute(
            select(a.subject, a.node_id, a.seq, a.type, a.occurred_at, a.envelope).where(
                a.subject.in_(subjects[i : i + CHUNK]), a.occurred_at <= moment
            )
        )
        for subject, *rest in rows:
            found[subject].append(fact_from_archive(*rest))
    return found


def members_as_of(
    conn: Connection, member_ids: Sequence[str], moment: str
) -> dict[str, MemberHistory | None]:
    """Each member derived (as live) from their events that occurred by `moment` (None: not
    registered by then)."""
    facts = _events(conn, [f"m:{m}" for m in member_ids], moment)
    return {m: history(m, facts.get(f"m:{m}", [])) for m in member_ids}


def roster_row(timeline_row: Mapping[Any, Any], derived: MemberHistory | None) -> dict[str, Any]:
    """A roster row (the live `members` columns) as of D: the timeline row's state plus the
    unversioned columns of the member derived from their events by D."""
    member = derived.row if derived is not None else {}
    row = {**timeline_row, **{k: member.get(k) for k in UNVERSIONED}}
    row["study_account"] = bool(row["study_account"])
    return row


def roster_rows(
    conn: Connection, timeline_rows: Sequence[Mapping[Any, Any]], moment: str
) -> list[dict[str, Any]]:
    """`roster_row` for each of `timeline_rows` (rows valid at `moment`)."""
    derived = members_as_of(conn, [r["member_id"] for r in timeline_rows], moment)
    return [roster_row(r, derived[r["member_id"]]) for r in timeline_rows]


def candidates_as_of(
    conn: Connection, moment: str, candidate_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Dual-review rows as of `moment` (every candidate, or those named), by candidate id."""
    a = t.archive.c
    if candidate_ids is None:
        query = select(a.subject).where(a.subject >= "c:", a.subject < "c;", a.occurred_at <= moment)
        subjects = sorted(set(conn.execute(query).scalars()))
    else:
        subjects = [f"c:{c}" for c in candidate_ids]
    facts = _events(conn, subjects, moment)
    rows = [derive_candidate(s[2:], facts.get(s, [])) for s in subjects]
    return [r for r in rows if r is not None]


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
    fc, a = figures.facts.c, t.archive.c
    query = select(fc.occurred_on, fc.node_id, fc.seq).where(
        fc.type.in_(ATTENDED), fc.occurred_on <= point.day.isoformat()
    )
    refs = sorted(conn.execute(query).all(), reverse=True)
    kinds = {"orglife": "last_orglife_at", "training": "last_trained_at"}
    for keys in _whole_days(refs):
        by_node: dict[str, list[int]] = defaultdict(list)
        for node_id, seq in keys:
            by_node[node_id].append(seq)
        where = or_(*(and_(a.node_id == n, a.seq.in_(seqs)) for n, seqs in by_node.items()))
        rows = conn.execute(select(a.node_id, a.seq, a.type, a.occurred_at, a.envelope).where(where))
        facts = [fact_from_archive(*r) for r in rows if r.occurred_at <= point.moment]
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


def _whole_days(refs: Sequence[tuple[Any, Any, Any]], size: int = 2000) -> Iterator[list[tuple[str, int]]]:
    """(node_id, seq) of `refs` (newest day first) in chunks of about `size` that end with a day, so
    that every event of a later chunk occurred before every event of an earlier one."""
    chunk: list[tuple[str, int]] = []
    day = ""
    for on, node_id, seq in refs:
        if len(chunk) >= size and on != day:
            yield chunk
            chunk = []
        chunk.append((node_id, seq))
        day = on
    if chunk:
        yield chunk


def as_of_digest(conn: Connection, moment: str) -> str:
    """SHA-256 over the business projections as of `moment`, canonically sorted:

    - `roster_as_of`: per member with a timeline row valid at D, that row's ROSTER_FIELDS
      (state only: not valid_from/valid_to, which a rebuild up to D cannot know), by member_id;
    - `co_managers_as_of`: the co-managers those rows give, by (member_id, org_id, role);
    - `facts_as_of`: the `facts` rows of events that occurred by D, by (node_id, seq).

    Equal for the live database read through the timeline and for a rebuild from only the events
    that occurred by D; organisations, activity, conflicts and dual review are not covered."""
    h = hashlib.sha256()
    tl = roster.member_timeline.c
    query = select(*(tl[k] for k in ROSTER_FIELDS)).where(valid_at(moment))
    rows = sorted((dict(r) for r in conn.execute(query).mappings()), key=lambda r: r["member_id"])
    h.update(b"table roster_as_of\n")
    for row in rows:
        h.update(canonical(row) + b"\n")
    h.update(b"table co_managers_as_of\n")
    for row in rows:
        for co in co_managers(row):
            h.update(canonical(co) + b"\n")
    h.update(b"table facts_as_of\n")
    fc, a = figures.facts.c, t.archive.c
    node = fc.node_id.collate("C") if conn.dialect.name == "postgresql" else fc.node_id
    facts = (
        select(*figures.facts.columns)
        .join(t.archive, and_(a.node_id == fc.node_id, a.seq == fc.seq))
        .where(a.occurred_at <= moment)
        .order_by(node, fc.seq)
    )
    for fact in conn.execute(facts).mappings():
        h.update(canonical(dict(fact)) + b"\n")
    return h.hexdigest()


def roster_counts(conn: Connection, moment: str | None) -> dict[str, int]:
    """Members by status: on the live roster, or (with `moment`) as of then."""
    if moment is None:
        rows = conn.execute(select(roster.members.c.status))
    else:
        rows = conn.execute(select(roster.member_timeline.c.status).where(valid_at(moment)))
    counts: dict[str, int] = defaultdict(int)
    for (status,) in rows:
        counts[status] += 1
    return dict(sorted(counts.items()))
