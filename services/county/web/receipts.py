"""/web/receipts: each node's latest county receipt, for the dashboard's node-health table.

`GET /api/v1/nodes` does not carry the last receipt yet; when it does, this route can go.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select

from services.county.api.deps import ConnDep
from services.county.db import tables as t

router = APIRouter(prefix="/web", tags=["dashboard"])


@router.get("/receipts", summary="Each node's latest county receipt (seq, issued_at)")
def latest_receipts(conn: ConnDep) -> dict[str, Any]:
    r = t.receipts.c
    latest = select(r.node_id, func.max(r.seq).label("seq")).group_by(r.node_id).subquery()
    query = (
        select(r.node_id, r.seq, r.issued_at, r.received_at)
        .join(latest, (latest.c.node_id == r.node_id) & (latest.c.seq == r.seq))
        .order_by(r.node_id)
    )
    items = [dict(row) for row in conn.execute(query).mappings()]
    return {"items": items}
