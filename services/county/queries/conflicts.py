"""Conflicts (DESIGN §3.8): facts that cannot both be true, listed for people to resolve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from services.county.projections import conflicts as conflicts_projection
from services.county.projections import roster
from services.county.queries.common import conflict_row


def conflicts(conn: Connection, kind: str | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """Facts that cannot both be true (DESIGN §3.8), with the member's name where it is one."""
    c = conflicts_projection.conflicts.c
    where = [c.kind == kind] if kind is not None else []
    total = conn.execute(
        select(func.count()).select_from(conflicts_projection.conflicts).where(*where)
    ).scalar_one()
    rows = conn.execute(
        select(conflicts_projection.conflicts, roster.members.c.name)
        .join(roster.members, roster.members.c.member_id == func.substr(c.subject, 3), isouter=True)
        .where(*where)
        .order_by(c.kind, c.subject, c.conflict_id)
        .limit(limit)
        .offset(offset)
    ).mappings()
    items = [{**conflict_row(r), "member_name": r["name"]} for r in rows]
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}
