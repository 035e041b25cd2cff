"""Reading the projections as of a business time D (`as_of`): the member timeline and what it lacks.

A member is on the roster as of D when a `member_timeline` row has valid_from <= D < valid_to
(valid_to NULL: still valid); that row gives the status, the placement (home branch, outstation,
host location, host organisation), the name and the cross posts. What the timeline does not
version — status_since, occupation, study account, conflicts, a candidate's dual review — is
re-derived here with the live derivation (`roster.history`) from the member's archived events that
occurred by D, and attendance from the orglife/training events that occurred by D
(`attendance.py`). So `as_of` now equals the live projections by construction, and `as_of` D
equals a rebuild from only the events that occurred by D (tested through `digest.as_of_digest`).

Times are compared as canonical UTC text (`2026-03-01T02:00:00.000000Z`), as stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from services.county.authority import speakers as enrolled
from services.county.authority.screen import Speakers, screen_entity
from services.county.db import tables as t
from services.county.projections import roster
from services.county.projections.dual_management import co_managers_of
from services.county.projections.fact import (
    CANDIDATE,
    MEMBER,
    Fact,
    entity_key,
    fact_from_archive,
    split_entity,
)
from services.county.projections.recruitment import derive_candidate
from services.county.projections.roster import MemberHistory, history
from shared.bounds import EARLIEST, EARLIEST_DATE, LATEST
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.envelope import format_time
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
    """`YYYY-MM-DD` (end of that China day) or an RFC 3339 time with a zone, between EARLIEST and
    LATEST (1900–2200, the range of every time an envelope may carry); else a FieldError."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, END_OF_DAY, CHINA_STANDARD_TIME)
        else:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
            if moment.tzinfo is None:
                raise FieldError(field, "must carry a time zone")
        if not EARLIEST <= moment < LATEST:
            raise FieldError(field, f"must lie between {EARLIEST_DATE} and {LATEST.date()}")
    except ValueError as exc:
        if isinstance(exc, FieldError):
            raise
        raise FieldError(field, "expected a date (YYYY-MM-DD) or a time with a zone (RFC 3339)") from None
    return AsOf.of_day(day) if len(value) == 10 else AsOf.of_time(moment, field)


KNOWN_AT = (
    "Arrival time T: the answer as the county's projections held it at T — from each node, its chain "
    "up to the first envelope still missing at T (one that arrived by T but waited behind that gap "
    "counts from when the gap filled), a quarantined message from when it was resolved. A time with "
    "a zone, or a date (the end of that China day)."
)
"""The one meaning of `known_at`, for every route and command that takes it (DESIGN §6): what
`audit/replay.py` replays, and so what every query answers over its scratch database."""


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
    facts = _events(conn, [entity_key(MEMBER, m) for m in member_ids], moment)
    speakers = enrolled.load(conn)
    return {m: history(m, _admitted(MEMBER, m, facts, speakers)) for m in member_ids}


def _admitted(kind: str, entity_id: str, facts: Mapping[str, list[Fact]], speakers: Speakers) -> list[Fact]:
    """The entity's events the screen admits, as live: judged on its events by D, which decide
    every event by D as all of its events do (a verdict depends only on what came before)."""
    return screen_entity(kind, entity_id, facts.get(entity_key(kind, entity_id), []), speakers).admitted


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
        subjects = [entity_key(CANDIDATE, c) for c in candidate_ids]
    facts = _events(conn, subjects, moment)
    speakers = enrolled.load(conn)
    ids = [split_entity(s)[1] for s in subjects]
    rows = [derive_candidate(c, _admitted(CANDIDATE, c, facts, speakers)) for c in ids]
    return [r for r in rows if r is not None]
