"""Refused claims for operators: archived events their node was not entitled to make (issue 14).

They are not quarantined — the envelope is archived, chained and acknowledged, it is what the node
signed — but the projections do not apply them (docs/authority.md). Listed with the reason, the
detail naming the field, and when the envelope arrived.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

from services.county.db import tables as t
from services.county.projections.claims import refused_claims


def claims(
    conn: Connection,
    *,
    node_id: str | None = None,
    reason: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Refused claims, by node and seq (every one with `limit` None: `county quarantine claims`)."""
    c, a = refused_claims.c, t.archive.c
    where: list[ColumnElement[bool]] = []
    if node_id is not None:
        where.append(c.node_id == node_id)
    if reason is not None:
        where.append(c.reason == reason)
    total = conn.execute(select(func.count()).select_from(refused_claims).where(*where)).scalar_one()
    query = (
        select(refused_claims, a.received_at, a.hash)
        .join(t.archive, and_(a.node_id == c.node_id, a.seq == c.seq), isouter=True)
        .where(*where)
        .order_by(c.node_id, c.seq)
        .limit(limit)
        .offset(offset)
    )
    items = [dict(r) for r in conn.execute(query).mappings()]
    for item in items:
        item["seq"] = int(item["seq"])
    return {"total": int(total), "limit": limit, "offset": offset, "items": items}


def counts(conn: Connection) -> dict[str, int]:
    """Refused claims per node (node health, the metrics)."""
    c = refused_claims.c
    query = select(c.node_id, func.count()).group_by(c.node_id)
    return {node_id: int(n) for node_id, n in conn.execute(query)}
