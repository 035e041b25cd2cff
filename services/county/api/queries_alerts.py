"""Dual-management alerts: who needs the county's attention, per kind, with counts and pages.

Alerts read the current projections; `as_of` (a China date, default today) places the 90-day
organisational-life window and picks the training year.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select

from services.county.api.queries_common import (
    ACTIVE,
    OrgTree,
    china_today,
    days_before,
    load_tree,
    start_of_china_day,
)
from services.county.api.queries_roster import roster_where
from services.county.db import tables as t

ORGLIFE_DAYS = 90


class AlertKind(enum.StrEnum):
    NO_ORGLIFE_90D = "no_orglife_90d"
    """An active member (out or contact lost) with no organisational life in the last 90 days."""
    UNTRAINED_THIS_YEAR = "untrained_this_year"
    """An active member who attended no training in the year of `as_of`."""
    CONTACT_LOST = "contact_lost"
    RECRUITMENT_AWAITING_SECOND_REVIEW = "recruitment_awaiting_second_review"
    """A candidate approved by one side of the dual review, the other side not yet heard."""
    NO_OUTSTATION = "no_outstation"
    """An active member attached to no outstation."""


KINDS = tuple(AlertKind)


def alerts(
    conn: Connection,
    *,
    kind: AlertKind | None = None,
    township: str | None = None,
    as_of: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Counts for every kind (within `township`) and one page of the alerts of `kind` (or all)."""
    day = as_of or china_today()
    tree = load_tree(conn)
    found: dict[AlertKind, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for item in _member_alerts(conn, tree, township, day):
        found[item["kind"]].append(item)
    found[AlertKind.RECRUITMENT_AWAITING_SECOND_REVIEW] = _recruitment_alerts(conn, tree, township)
    wanted = [kind] if kind is not None else list(KINDS)
    items = [item for k in wanted for item in sorted(found[k], key=_order)]
    return {
        "as_of": day.isoformat(),
        "window_days": ORGLIFE_DAYS,
        "year": day.year,
        "counts": {k.value: len(found[k]) for k in KINDS},
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "items": [{**i, "kind": i["kind"].value} for i in items[offset : offset + limit]],
    }


def _order(item: dict[str, Any]) -> tuple[bool, str, str]:
    return (item["name"] is None, item["name"] or "", item["member_id"])


def _member_alerts(conn: Connection, tree: OrgTree, township: str | None, day: date) -> list[dict[str, Any]]:
    m, a, tr = t.members.c, t.activity.c, t.trained.c
    cutoff = start_of_china_day(days_before(day, ORGLIFE_DAYS))
    trained = exists().where(tr.member_id == m.member_id, tr.year == day.year)
    rows = conn.execute(
        select(t.members, a.last_orglife_at, a.last_trained_at, trained.label("trained"))
        .join(t.activity, a.member_id == m.member_id, isouter=True)
        .where(m.status.in_(ACTIVE), *roster_where(tree, township=township))
    ).mappings()
    out: list[dict[str, Any]] = []
    for r in rows:
        village, tw = tree.place(r["home_branch"])
        base = {
            "member_id": r["member_id"],
            "name": r["name"],
            "status": r["status"],
            "township": tw,
            "township_name": tree.name(tw),
            "village": village,
            "village_name": tree.name(village),
            "outstation": r["outstation"],
        }
        last = r["last_orglife_at"]
        if last is None or last < cutoff:
            out.append({**base, "kind": AlertKind.NO_ORGLIFE_90D, "detail": {"last_orglife_at": last}})
        if not r["trained"]:
            detail = {"year": day.year, "last_trained_at": r["last_trained_at"]}
            out.append({**base, "kind": AlertKind.UNTRAINED_THIS_YEAR, "detail": detail})
        if r["status"] == "contact_lost":
            out.append({**base, "kind": AlertKind.CONTACT_LOST, "detail": {"since": r["status_since"]}})
        if r["outstation"] is None:
            detail = {"host_location": r["host_location"]}
            out.append({**base, "kind": AlertKind.NO_OUTSTATION, "detail": detail})
    return out


def _recruitment_alerts(conn: Connection, tree: OrgTree, township: str | None) -> list[dict[str, Any]]:
    """Exactly one side approved, the other side silent. The candidate's township is that of the
    organisation of the first review (the only organisation the projection keeps)."""
    r, m = t.recruitment.c, t.members.c
    approved = "approved"
    rows = conn.execute(
        select(t.recruitment, m.name)
        .join(t.members, m.member_id == r.candidate_id, isouter=True)
        .where(
            or_(
                and_(r.outstation_decision == approved, r.home_decision.is_(None)),
                and_(r.home_decision == approved, r.outstation_decision.is_(None)),
            )
        )
    ).mappings()
    out = []
    for row in rows:
        tw = tree.township_of(row["org_id"])
        if township is not None and tw != (None if township == "-" else township):
            continue
        done = "outstation" if row["outstation_decision"] == approved else "home"
        out.append(
            {
                "kind": AlertKind.RECRUITMENT_AWAITING_SECOND_REVIEW,
                "member_id": row["candidate_id"],
                "name": row["name"],
                "status": None,
                "township": tw,
                "township_name": tree.name(tw),
                "village": None,
                "village_name": None,
                "outstation": None,
                "detail": {
                    "org_id": row["org_id"],
                    "org_name": tree.name(row["org_id"]),
                    "approved_side": done,
                    "awaiting_side": "home" if done == "outstation" else "outstation",
                    "last_reviewed_at": row["last_reviewed_at"],
                },
            }
        )
    return out
