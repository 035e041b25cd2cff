"""One member's card, and dual management (一方隶属、多方管理) seen from a member or from an org."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from services.county.api.queries_common import (
    NotFoundError,
    OrgTree,
    binary,
    conflict_row,
    load_tree,
)
from services.county.api.queries_roster import member_row
from services.county.db import tables as t

ROLES = ("outstation", "host_org", "cross_post")
"""How an organisation besides the home branch co-manages a member."""


def _member(conn: Connection, member_id: str) -> Any:
    row = conn.execute(select(t.members).where(t.members.c.member_id == member_id)).mappings().first()
    if row is None:
        raise NotFoundError("member_id", f"no member {member_id} on the roster")
    return row


def _co_managers(conn: Connection, tree: OrgTree, member_id: str) -> list[dict[str, Any]]:
    c = t.co_managers.c
    rows = conn.execute(select(t.co_managers).where(c.member_id == member_id).order_by(c.org_id, c.role))
    return [
        {
            "org_id": r.org_id,
            "name": tree.name(r.org_id),
            "kind": tree.orgs.get(r.org_id, {}).get("kind"),
            "role": r.role,
            "post": r.post,
        }
        for r in rows
    ]


def member_card(conn: Connection, member_id: str) -> dict[str, Any]:
    """Everything the county knows about one member: roster row, co-managers, activity, study
    account, conflicts, recruitment review (if also a candidate) and the archived events."""
    tree = load_tree(conn)
    card = member_row(tree, _member(conn, member_id))
    card["co_managers"] = _co_managers(conn, tree, member_id)
    act = conn.execute(select(t.activity).where(t.activity.c.member_id == member_id)).mappings().first()
    years = conn.execute(
        select(t.trained.c.year).where(t.trained.c.member_id == member_id).order_by(t.trained.c.year)
    ).scalars()
    card["activity"] = {
        "last_orglife_at": act["last_orglife_at"] if act else None,
        "last_trained_at": act["last_trained_at"] if act else None,
        "trained_years": [int(y) for y in years],
    }
    subject = f"m:{member_id}"
    conflicts = conn.execute(
        select(t.conflicts).where(t.conflicts.c.subject == subject).order_by(t.conflicts.c.conflict_id)
    ).mappings()
    card["conflicts"] = [conflict_row(r) for r in conflicts]
    rec = (
        conn.execute(select(t.recruitment).where(t.recruitment.c.candidate_id == member_id))
        .mappings()
        .first()
    )
    card["recruitment"] = dict(rec) if rec else None
    a = t.archive.c
    history = conn.execute(
        select(a.node_id, a.seq, a.type, a.occurred_at, a.recorded_at, a.received_at)
        .where(a.subject == subject)
        .order_by(a.occurred_at, a.node_id, a.seq)
    ).mappings()
    card["history"] = [dict(r) for r in history]
    return card


def member_management(conn: Connection, member_id: str) -> dict[str, Any]:
    """A member's one affiliation (the home branch) and every organisation co-managing them."""
    tree = load_tree(conn)
    row = _member(conn, member_id)
    branch = row["home_branch"]
    township = tree.township_of(branch)
    return {
        "member_id": member_id,
        "name": row["name"],
        "status": row["status"],
        "affiliation": {
            "org_id": branch,
            "name": tree.name(branch),
            "kind": tree.orgs.get(branch, {}).get("kind"),
            "township": township,
            "township_name": tree.name(township),
        },
        "co_managers": _co_managers(conn, tree, member_id),
    }


def org_co_managed(conn: Connection, org_id: str) -> dict[str, Any]:
    """The members an organisation co-manages, by role, and how many it is the affiliation of."""
    tree = load_tree(conn)
    c, m = t.co_managers.c, t.members.c
    rows = conn.execute(
        select(c.role, c.post, m.member_id, m.name, m.status, m.home_branch)
        .join(t.members, m.member_id == c.member_id)
        .where(c.org_id == org_id)
        .order_by(c.role, binary(conn, m.name), m.member_id)
    ).mappings()
    by_role: dict[str, list[dict[str, Any]]] = {role: [] for role in ROLES}
    for r in rows:
        village, township = tree.place(r["home_branch"])
        by_role.setdefault(r["role"], []).append(
            {
                "member_id": r["member_id"],
                "name": r["name"],
                "status": r["status"],
                "post": r["post"],
                "village": village,
                "village_name": tree.name(village),
                "township": township,
                "township_name": tree.name(township),
            }
        )
    affiliated = int(
        conn.execute(select(func.count()).select_from(t.members).where(m.home_branch == org_id)).scalar_one()
    )
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
    query = select(t.orgs).order_by(t.orgs.c.org_id)
    if kind is not None:
        query = query.where(t.orgs.c.kind == kind)
    items = []
    for r in conn.execute(query).mappings():
        township = tree.township_of(r["org_id"])
        items.append({**dict(r), "township": township, "township_name": tree.name(township)})
    return {"total": len(items), "items": items}
