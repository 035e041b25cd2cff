"""The projection digest an auditor compares with a rebuild (DESIGN §3.5), the as-of digest of a
business time, and the roster's counts by status."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, func, select

from services.county.db import tables as t
from services.county.projections import figures, roster
from services.county.projections.digest import digest
from services.county.projections.registry import BUSINESS_TABLES
from services.county.queries.asof import ROSTER_FIELDS, co_managers, valid_at
from services.county.queries.common import now_text
from services.county.queries.versions import in_effect
from shared.envelope import canonical


def projection_digest(conn: Connection) -> dict[str, Any]:
    """The digest of the business projections (equal to a rebuild's, DESIGN §3.5) and row counts."""
    rows = {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in BUSINESS_TABLES
    }
    return {"digest": digest(conn), "computed_at": now_text(), "rows": rows}


def as_of_summary(conn: Connection, moment: str | None) -> dict[str, Any]:
    """`as_of` (None: now), its digest (None without `as_of`) and the roster's counts then."""
    return {
        "as_of": moment,
        "as_of_digest": as_of_digest(conn, moment) if moment is not None else None,
        "roster": roster_counts(conn, moment),
    }


def as_of_digest(conn: Connection, moment: str) -> str:
    """SHA-256 over the business projections as of `moment`, canonically sorted:

    - `roster_as_of`: per member with a timeline row valid at D, that row's ROSTER_FIELDS
      (state only: not valid_from/valid_to, which a rebuild up to D cannot know), by member_id;
    - `co_managers_as_of`: the co-managers those rows give, by (member_id, org_id, role);
    - `facts_as_of`: the `facts` rows in effect at D of events that occurred by D, by (node_id,
      seq), without `valid_to` (a correction after D, which a rebuild up to D cannot know, ends it).

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
    columns = [c for c in figures.facts.columns if c.name != "valid_to"]
    facts = (
        select(*columns)
        .join(t.archive, and_(a.node_id == fc.node_id, a.seq == fc.seq))
        .where(a.occurred_at <= moment, in_effect(moment))
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
