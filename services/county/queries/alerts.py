"""Dual-management alerts: who needs the county's attention, per kind, with counts and pages.

Without `as_of` alerts read the live projections and judge by today (China date). With `as_of`
(business time D) they read the roster as of D (the member timeline), attendance by D, and the
dual review by D; D's China date places the 90-day organisational-life window and picks the year.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from sqlalchemy import Connection, exists, select

from services.county.personal.view import MASKED, PersonalView
from services.county.projections import attendance, recruitment, roster
from services.county.queries.asof import AsOf, candidates_as_of, members_as_of, valid_at
from services.county.queries.attendance import attendance_as_of
from services.county.queries.common import (
    OrgTree,
    china_today,
    days_before,
    load_tree,
    start_of_china_day,
)
from services.county.queries.roster import roster_where
from shared.catalog.status import ACTIVE

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
Place = tuple[str | None, str | None]
"""(township, village): where the alerts look, as the roster's filters take them."""


def alerts(
    conn: Connection,
    *,
    kind: AlertKind | None = None,
    township: str | None = None,
    village: str | None = None,
    as_of: AsOf | None = None,
    limit: int = 100,
    offset: int = 0,
    view: PersonalView = MASKED,
) -> dict[str, Any]:
    """Counts for every kind (within `township`, and `village`) and one page of the alerts of
    `kind` (or all); members' names opened by `view`. Within a village there are no recruitment
    alerts: a candidate is placed by the organisation of their first review, not by a village."""
    day = as_of.day if as_of is not None else china_today()
    tree = load_tree(conn)
    found: dict[AlertKind, list[dict[str, Any]]] = {k: [] for k in KINDS}
    place = (township, village)
    active = _active(conn, tree, place, day) if as_of is None else _active_as_of(conn, tree, place, as_of)
    about_members = _member_alerts(tree, active, day)
    reviews = [] if village is not None else _recruitment_alerts(conn, tree, township, as_of)
    view.names(conn, [*about_members, *reviews])
    for item in about_members:
        found[item["kind"]].append(item)
    found[AlertKind.RECRUITMENT_AWAITING_SECOND_REVIEW] = reviews
    wanted = [kind] if kind is not None else list(KINDS)
    items = [item for k in wanted for item in sorted(found[k], key=_order)]
    return {
        "as_of": as_of.given if as_of is not None else day.isoformat(),
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


def _active(conn: Connection, tree: OrgTree, place: Place, day: date) -> list[Any]:
    """Members away (out or contact lost) with their latest attendance and whether trained in `day`'s year."""
    m, a, tr = roster.members.c, attendance.activity.c, attendance.trained.c
    trained = exists().where(tr.member_id == m.member_id, tr.year == day.year)
    return list(
        conn.execute(
            select(roster.members, a.last_orglife_at, a.last_trained_at, trained.label("trained"))
            .join(attendance.activity, a.member_id == m.member_id, isouter=True)
            .where(m.status.in_(ACTIVE), *roster_where(tree, township=place[0], village=place[1]))
        ).mappings()
    )


def _active_as_of(conn: Connection, tree: OrgTree, place: Place, as_of: AsOf) -> list[Any]:
    """The same as `_active`, as of D: timeline rows valid at D, attendance by D."""
    tl = roster.member_timeline.c
    where = [tl.status.in_(ACTIVE), *roster_where(tree, township=place[0], village=place[1], as_of=as_of)]
    rows = [dict(r) for r in conn.execute(select(roster.member_timeline).where(*where)).mappings()]
    attended = attendance_as_of(conn, [r["member_id"] for r in rows], as_of)
    lost = [r["member_id"] for r in rows if r["status"] == "contact_lost"]
    derived = members_as_of(conn, lost, as_of.moment)
    for r in rows:
        got = attended[r["member_id"]]
        found = derived.get(r["member_id"])
        member = found.row if found is not None else None
        r.update(
            last_orglife_at=got.last_orglife_at,
            last_trained_at=got.last_trained_at,
            trained=as_of.day.year in got.trained_years,
            status_since=(member or {}).get("status_since"),
        )
    return rows


def _member_alerts(tree: OrgTree, rows: list[Any], day: date) -> list[dict[str, Any]]:
    cutoff = start_of_china_day(days_before(day, ORGLIFE_DAYS))
    out: list[dict[str, Any]] = []
    for r in rows:
        village, tw = tree.place(r["home_branch"])
        base = {
            "member_id": r["member_id"],
            "name": r["name"],
            "personal": r["personal"],
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


def _awaiting(row: Any) -> bool:
    """Exactly one side of the dual review approved, the other silent."""
    sides = (row["outstation_decision"], row["home_decision"])
    return sides in (("approved", None), (None, "approved"))


def _reviews(conn: Connection, as_of: AsOf | None) -> list[Any]:
    """Candidates awaiting the second review, with their name if they are on the roster (as of D)."""
    if as_of is None:
        r, m = recruitment.recruitment.c, roster.members.c
        query = select(recruitment.recruitment, m.name, m.personal).join(
            roster.members, m.member_id == r.candidate_id, isouter=True
        )
        return [row for row in conn.execute(query).mappings() if _awaiting(row)]
    rows = [row for row in candidates_as_of(conn, as_of.moment) if _awaiting(row)]
    tl = roster.member_timeline.c
    ids = [row["candidate_id"] for row in rows]
    query = select(tl.member_id, tl.name, tl.personal).where(tl.member_id.in_(ids), valid_at(as_of.moment))
    names = {member_id: (name, personal) for member_id, name, personal in conn.execute(query)}
    return [
        {
            **row,
            "name": names.get(row["candidate_id"], (None, None))[0],
            "personal": names.get(row["candidate_id"], (None, None))[1],
        }
        for row in rows
    ]


def _recruitment_alerts(
    conn: Connection, tree: OrgTree, township: str | None, as_of: AsOf | None
) -> list[dict[str, Any]]:
    """Exactly one side approved, the other side silent. The candidate's township is that of the
    organisation of the first review (the only organisation the projection keeps)."""
    approved = "approved"
    out = []
    for row in _reviews(conn, as_of):
        tw = tree.township_of(row["org_id"])
        if township is not None and tw != (None if township == "-" else township):
            continue
        done = "outstation" if row["outstation_decision"] == approved else "home"
        out.append(
            {
                "kind": AlertKind.RECRUITMENT_AWAITING_SECOND_REVIEW,
                "member_id": row["candidate_id"],
                "name": row["name"],
                "personal": row["personal"],
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
