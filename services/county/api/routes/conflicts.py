"""/api/v1/conflicts: facts that cannot both be true (DESIGN §3.8), listed for people to resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.county.accounts.roles import Role
from services.county.api.auth import require
from services.county.api.deps import ConnDep, Limit, Offset
from services.county.api.models.ops import Conflicts
from services.county.api.responses import Json, ok
from services.county.api.routes.reveals import personal_view
from services.county.queries import conflicts as q

router = APIRouter(
    prefix="/api/v1/conflicts", tags=["conflicts"], dependencies=[require(Role.ANALYST, Role.OPERATOR)]
)


@router.get(
    "",
    summary="Facts that cannot both be true",
    description="Kinds: `double_registration` (one person registered by two nodes), "
    "`contradictory_status` (two nodes changed a member's status differently on one day), "
    "`same_id_number` (one ID number under two member ids, from the county's keyed identity index; "
    "`detail.member_ids`, `detail.nodes`). "
    "Conflicts are listed, never resolved silently; `events` name the archived `node:seq`.",
    responses=ok(Conflicts),
)
def list_conflicts(
    request: Request,
    conn: ConnDep,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", description="Only this kind.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    return Json(q.conflicts(conn, kind, limit, offset, view=personal_view(request)))
