"""One member's card, and dual management (一方隶属、多方管理) seen from a member or from an org.

With `as_of` (business time D) each reads the member timeline row valid at D; co-managers follow
from it by the live rule, and the rest of the card from the events that occurred by D.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, func, or_, select

from services.county.db import tables as t
from services.county.projections import attendance, conflicts, dual_management, orgs, recruitment, roster
from services.county.projections.fact import MEMBER, entity_key
from services.county.queries import corrections
from services.county.queries.asof import (
    AsOf,
    candidates_as_of,
    co_managers,
    members_as_of,
    roster_row,
    valid_at,
)
from services.county.queries.attendance import attendance_as_of
from services.county.queries.common import (
    NotFoundError,
    OrgTree,
    binary,
    conflict_row,
    load_tree,
)
from services.county.queries.node_names import node_names
from services.county.queries.roster import member_row

ROLES = ("outstation", "host_org", "cross_post")
"""How an organisation besides the home branch co-manages a member."""


def _member(conn: Connection, member_id: str, as_of: AsOf | None = None) -> Any:
    """The member's live row, or (with `as_of`) their timeline row valid then."""
    if as_of is None:
        row = (
            conn.execute(select(roster.members).where(roster.members.c.member_id == member_id))
            .mappings()
            .first()
        )
        where = ""
    else:
        tl = roster.member_timeline.c
        query = select(roster.member_timeline).where(tl.member_id == member_id, valid_at(as_of.moment))
        row = conn.execute(query).mappings().first()
        where = f" as of {as_of.given}"
    if row is None:
        raise NotFoundError("member_id", f"no member {member_id} on the roster{where}")
    return row


def _co_managers(conn: Connection, tree: OrgTree, member_id: str, row: Any = None) -> list[dict[str, Any]]:
    """The live co-managers, or those a timeline `row` gives."""
    if row is None:
        c = dual_management.co_managers.c
        query = select(dual_management.co_managers).where(c.member_id == member_id).order_by(c.org_id, c.role)
        rows: Iterable[Mapping[Any, Any]] = conn.execute(query).mappings()
    else:
        rows = co_managers(row)
    return [
        {
            "org_id": r["org_id"],
            "name": tree.name(r["org_id"]),
            "kind": tree.orgs.get(r["org_id"], {}).get("kind"),
            "role": r["role"],
            "post": r["post"],
        }
        for r in rows
    ]


def _history(
    conn: Connection, tree: OrgTree, member_id: str, moment: str | None = None
) -> list[dict[str, Any]]:
    """The archived events about the member (by D), in business order, each original marked
    `corrected` or `voided` by the corrections that stand (by D), which are listed too, with the
    seq they correct and why (`corrections.annotate`), and the name of the node that sent it."""
    a = t.archive.c
    subject = entity_key(MEMBER, member_id)
    query = select(a.node_id, a.seq, a.type, a.occurred_at, a.recorded_at, a.received_at).where(
        a.subject == subject
    )
    if moment is not None:
        query = query.where(a.occurred_at <= moment)
    names = node_names(conn, tree)
    rows = [
        {**r, "node_name": names.get(r["node_id"])}
        for r in conn.execute(query.order_by(a.occurred_at, a.node_id, a.seq)).mappings()
    ]
    return corrections.annotate(conn, subject, rows)


def member_card(conn: Connection, member_id: str, as_of: AsOf | None = None) -> dict[str, Any]:
    """Everything the county knows about one member: roster row, co-managers, activity, study
    account, conflicts, recruitment review (if also a candidate) and the archived events."""
    tree = load_tree(conn)
    if as_of is not None:
        return _card_as_of(conn, tree, member_id, as_of)
    card = member_row(tree, _member(conn, member_id))
    card["co_managers"] = _co_managers(conn, tree, member_id)
    act = (
        conn.execute(select(attendance.activity).where(attendance.activity.c.member_id == member_id))
        .mappings()
        .first()
    )
    years = conn.execute(
        select(attendance.trained.c.year)
        .where(attendance.trained.c.member_id == member_id)
        .order_by(attendance.trained.c.year)
    ).scalars()
    card["activity"] = {
        "last_orglife_at": act["last_orglife_at"] if act else None,
        "last_trained_at": act["last_trained_at"] if act else None,
        "trained_years": [int(y) for y in years],
    }
    subject = entity_key(MEMBER, member_id)
    c = conflicts.conflicts.c
    found = conn.execute(select(conflicts.conflicts).where(c.subject == subject).order_by(c.conflict_id))
    card["conflicts"] = [conflict_row(r) for r in found.mappings()]
    rec = (
        conn.execute(
            select(recruitment.recruitment).where(recruitment.recruitment.c.candidate_id == member_id)
        )
        .mappings()
        .first()
    )
    card["recruitment"] = dict(rec) if rec else None
    card["history"] = _history(conn, tree, member_id)
    return card


def _card_as_of(conn: Connection, tree: OrgTree, member_id: str, as_of: AsOf) -> dict[str, Any]:
    """The card as it stood at D: the same fields, each by business time D."""
    timeline = _member(conn, member_id, as_of)
    derived = members_as_of(conn, [member_id], as_of.moment)[member_id]
    card = member_row(tree, roster_row(timeline, derived))
    card["co_managers"] = _co_managers(conn, tree, member_id, timeline)
    attended = attendance_as_of(conn, [member_id], as_of)[member_id]
    card["activity"] = {
        "last_orglife_at": attended.last_orglife_at,
        "last_trained_at": attended.last_trained_at,
        "trained_years": list(attended.trained_years),
    }
    found = conflicts.member_conflicts(member_id, derived) if derived is not None else []
    card["conflicts"] = [conflict_row(c) for c in sorted(found, key=lambda c: str(c["conflict_id"]))]
    reviews = candidates_as_of(conn, as_of.moment, [member_id])
    card["recruitment"] = reviews[0] if reviews else None
    card["history"] = _history(conn, tree, member_id, as_of.moment)
    return card


def member_management(conn: Connection, member_id: str, as_of: AsOf | None = None) -> dict[str, Any]:
    """A member's one affiliation (the home branch) and every organisation co-managing them."""
    tree = load_tree(conn)
    row = _member(conn, member_id, as_of)
    branch = row["home_branch"]
    township = tree.township_of(branch)
    return {
        "member_id": member_id,
        "name": row["name"],
        "personal": row.get("personal"),
        "status": row["status"],
        "affiliation": {
            "org_id": branch,
            "name": tree.name(branch),
            "kind": tree.orgs.get(branch, {}).get("kind"),
            "township": township,
            "township_name": tree.name(township),
        },
        "co_managers": _co_managers(conn, tree, member_id, None if as_of is None else row),
    }


def _co_managed_rows(conn: Connection, org_id: str, as_of: AsOf | None) -> list[Mapping[Any, Any]]:
    """(role, post, member_id, name, status, home_branch) of the members `org_id` co-manages,
    by role, then name, then member_id: live, or by the timeline rows valid at D."""
    if as_of is None:
        c, m = dual_management.co_managers.c, roster.members.c
        query = (
            select(c.role, c.post, m.member_id, m.name, m.personal, m.status, m.home_branch)
            .join(roster.members, m.member_id == c.member_id)
            .where(c.org_id == org_id)
            .order_by(c.role, binary(conn, m.name), m.member_id)
        )
        return list(conn.execute(query).mappings())
    tl = roster.member_timeline.c
    mentions = or_(
        tl.outstation == org_id, tl.host_org == org_id, tl.cross_posts.contains(json.dumps(org_id))
    )
    found = []
    for row in conn.execute(
        select(roster.member_timeline).where(valid_at(as_of.moment), mentions)
    ).mappings():
        for co in co_managers(row):
            if co["org_id"] == org_id:
                keys = ("member_id", "name", "personal", "status", "home_branch")
                found.append({**{k: row[k] for k in keys}, **co})
    return sorted(found, key=lambda r: (r["role"], r["name"], r["member_id"]))


def org_co_managed(conn: Connection, org_id: str, as_of: AsOf | None = None) -> dict[str, Any]:
    """The members an organisation co-manages, by role, and how many it is the affiliation of."""
    tree = load_tree(conn)
    rows = _co_managed_rows(conn, org_id, as_of)
    by_role: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
    for r in rows:
        village, township = tree.place(r["home_branch"])
        by_role.setdefault(r["role"], []).append(
            {
                "member_id": r["member_id"],
                "name": r["name"],
                "personal": r["personal"],
                "status": r["status"],
                "post": r["post"],
                "village": village,
                "village_name": tree.name(village),
                "township": township,
                "township_name": tree.name(township),
            }
        )
    table = roster.members if as_of is None else roster.member_timeline
    where = [table.c.home_branch == org_id] + ([] if as_of is None else [valid_at(as_of.moment)])
    affiliated = int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
    if org_id not in tree.orgs and not affiliated and not any(by_role.values()):
        raise NotFoundError("org_id", f"no organisation {org_id!r} is registered or co-manages anyone")
    org = tree.orgs.get(org_id, {})
    return {
        "org_id": org_id,
        "name": tree.name(org_id),
        "kind": org.get("kind"),
        "mode": org.get("mode"),
        "host_location": org.get("host_location"),
        "township": tree.township_of(org_id),
        "counts": {"affiliated": affiliated, **{role: len(v) for role, v in by_role.items()}},
        "co_managed": by_role,
    }


def list_orgs(conn: Connection, kind: str | None = None) -> dict[str, Any]:
    """The organisation tree as rows (by id), each with its township ancestor."""
    tree = load_tree(conn)
    query = select(orgs.orgs).order_by(orgs.orgs.c.org_id)
    if kind is not None:
        query = query.where(orgs.orgs.c.kind == kind)
    rows = {r["org_id"]: dict(r) for r in conn.execute(query).mappings()}
    for org_id, org in tree.orgs.items():  # loaded in the register, registered by no event yet
        if org_id not in rows and (kind is None or org["kind"] == kind):
            rows[org_id] = {**org, **UNMANAGED}
    items = []
    for org_id in sorted(rows):
        township = tree.township_of(org_id)
        items.append({**rows[org_id], "township": township, "township_name": tree.name(township)})
    return {"total": len(items), "items": items}


UNMANAGED = {
    "secretary": None,
    "liaison_leader": None,
    "liaison_office": None,
    "venues": 0,
    "teaching_sites": 0,
}
"""What an organisation only the register knows has of the `orgs` columns the events fill."""
