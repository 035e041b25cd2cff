"""Conflicts (DESIGN §3.8): facts that cannot both be true, listed for people to resolve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from services.county.personal import index as identity
from services.county.personal.view import MASKED, PersonalView
from services.county.projections import conflicts as conflicts_projection
from services.county.projections import roster
from services.county.queries.common import conflict_row


def conflicts(
    conn: Connection, kind: str | None = None, limit: int = 100, offset: int = 0, view: PersonalView = MASKED
) -> dict[str, Any]:
    """Facts that cannot both be true (DESIGN §3.8), with the member's name where it is one
    (opened by `view`)."""
    c = conflicts_projection.conflicts.c
    where = [c.kind == kind] if kind is not None else []
    total = conn.execute(
        select(func.count()).select_from(conflicts_projection.conflicts).where(*where)
    ).scalar_one()
    rows = conn.execute(
        select(conflicts_projection.conflicts, roster.members.c.name, roster.members.c.personal)
        .join(roster.members, roster.members.c.member_id == func.substr(c.subject, 3), isouter=True)
        .where(*where)
        .order_by(c.kind, c.subject, c.conflict_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    items = [{**conflict_row(r), "member_name": r["name"], "personal": r["personal"]} for r in rows]
    named = [
        {"member_id": i["subject"][2:], "name": i["member_name"], "personal": i.pop("personal")}
        for i in items
    ]
    view.names(conn, named)
    for item, member in zip(items, named, strict=True):
        item["member_name"] = member["name"]
    if kind is None or kind == identity.KIND:
        # one person registered at two nodes under two random ids: from the county's identity
        # index (outside the projections and their digest), after the projections' conflicts
        found = identity.conflicts(conn)
        start = max(0, offset - int(total))
        items += [{**c, "member_name": None} for c in found[start : start + limit - len(items)]]
        total += len(found)
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}
