"""The reveals log: every time someone saw a member's personal data in full (who, role, whom,
when, why), listable by an auditor or operator (`GET /api/v1/reveals`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from services.county.personal.tables import reveals
from shared.envelope import format_time

MAX_REASON = 500


def record(
    conn: Connection, username: str, role: str, member_id: str | None, scope: str, reason: str
) -> dict[str, Any]:
    """Record one reveal in `conn`'s transaction; returns it as listed."""
    row = {
        "at": format_time(datetime.now(UTC)),
        "username": username,
        "role": role,
        "member_id": member_id,
        "scope": scope,
        "reason": reason,
    }
    found = conn.execute(reveals.insert().values(**row).returning(reveals.c.id)).scalar_one()
    return {"id": int(found), **row}


def listed(
    conn: Connection, member_id: str | None = None, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """The reveals, newest first (of one member, if named)."""
    c = reveals.c
    where = [c.member_id == member_id] if member_id is not None else []
    total = conn.execute(select(func.count()).select_from(reveals).where(*where)).scalar_one()
    rows = conn.execute(
        select(reveals).where(*where).order_by(c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return {"total": int(total), "limit": limit, "offset": offset, "items": [dict(r) for r in rows]}
