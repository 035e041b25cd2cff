"""Attendance: the latest organisational life and training each member attended, and the years
trained (maxima and sets: the same whatever order the events come in)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, case, func

from services.county.db.bulk import insert_all
from services.county.db.tables import metadata
from services.county.db.upsert import excluded, insert_ignore, upsert
from services.county.projections.fact import Fact
from services.county.projections.projection import FoldProjection
from shared.catalog import mechanism as me

activity = Table(
    "activity",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("last_orglife_at", String(32)),
    Column("last_trained_at", String(32)),
)
"""The latest organisational life and training each member attended (max: order-free)."""

trained = Table(
    "trained",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
)


def attended(fact: Fact) -> tuple[str, list[str]] | None:
    """('orglife' | 'training', attendee member ids) for events that members attend."""
    b = fact.body
    if isinstance(b, me.OrglifeHeld):
        return "orglife", sorted(set(b.attendees))
    if isinstance(b, me.TrainingHeld):
        return "training", sorted(set(b.attendees))
    return None


class Attendance:
    """Each member's latest organisational life and training, and the years trained, of the
    events added so far."""

    def __init__(self, conn: Connection | None = None) -> None:
        self.conn = conn
        self.latest: dict[str, dict[str, str]] = defaultdict(dict)
        self.years: set[tuple[str, int]] = set()

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            found = attended(fact)
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

    def finish(self) -> None:
        """Write it all into empty `activity` and `trained` tables (rebuild, replay)."""
        assert self.conn is not None, "an Attendance folding into tables is started with a connection"
        insert_all(self.conn, activity, self.activity_rows())
        insert_all(self.conn, trained, self.trained_rows())


def _live(conn: Connection, facts: Sequence[Fact]) -> None:
    """Fold the attendance of these events into `activity` (latest dates) and `trained`."""
    seen = Attendance()
    seen.add(facts)
    rows = seen.activity_rows()
    if rows:
        new = excluded(conn, activity)
        set_ = {
            col: case(
                (func.coalesce(new[col], "") > func.coalesce(activity.c[col], ""), new[col]),
                else_=activity.c[col],
            )
            for col in ("last_orglife_at", "last_trained_at")
        }
        upsert(conn, activity, rows, set_)
    insert_ignore(conn, trained, seen.trained_rows())


PROJECTION = FoldProjection(
    name="attendance",
    tables=(activity, trained),
    claims=frozenset({"orglife.held", "training.held"}),
    live=_live,
    start=Attendance,
)
