"""/api/v1/quarantine: messages refused at ingest, kept with their reason (DESIGN §3.7); and
/api/v1/quarantine/claims: archived events their node was not entitled to make (docs/authority.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.county.accounts.roles import Role
from services.county.api.auth import require
from services.county.api.deps import SLUG, ConnDep, Limit, Offset
from services.county.api.models.ops import Quarantine, RefusedClaims
from services.county.api.responses import Json, ok
from services.county.authority.rules import REASONS
from services.county.queries import claims
from services.county.queries import quarantine as q

router = APIRouter(
    prefix="/api/v1/quarantine", tags=["quarantine"], dependencies=[require(Role.OPERATOR, Role.AUDITOR)]
)


@router.get(
    "",
    summary="Refused messages",
    description="Open ones unless `all=true`; oldest first. The raw bytes are not returned: "
    "`raw_length` and a preview: `preview_hex` (the first 64 bytes) and `preview_text` (the "
    "first 1,000 characters as UTF-8, undecodable bytes replaced).",
    responses=ok(Quarantine),
)
def list_quarantine(
    *,
    conn: ConnDep,
    all: Annotated[bool, Query(description="Include resolved messages.")] = False,
    node_id: Annotated[str | None, Query(pattern=SLUG, description="Only this node's messages.")] = None,
    reason: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,32}$", description="Only this reason, e.g. `bad_signature`.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    found = q.quarantine(
        conn, include_resolved=all, node_id=node_id, reason=reason, limit=limit, offset=offset
    )
    return Json(found)


@router.get(
    "/claims",
    summary="Refused claims",
    description="Archived events their node was not entitled to make (docs/authority.md): unlike "
    "quarantined messages they are archived, chained and acknowledged — they are what the node "
    "signed — but no projection applies them. By node and seq; `reason` is one of "
    + ", ".join(f"`{r}`" for r in REASONS)
    + ".",
    responses=ok(RefusedClaims),
)
def list_claims(
    *,
    conn: ConnDep,
    node_id: Annotated[str | None, Query(pattern=SLUG, description="Only this node's claims.")] = None,
    reason: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,32}$", description="Only this reason, e.g. `not_own_org`.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    return Json(claims.claims(conn, node_id=node_id, reason=reason, limit=limit, offset=offset))
