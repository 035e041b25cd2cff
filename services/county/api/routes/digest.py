"""/api/v1/digest: the projection digest an auditor compares with a rebuild (DESIGN §3.5)."""

from __future__ import annotations

from fastapi import APIRouter

from services.county.accounts.roles import Role
from services.county.api.auth import require
from services.county.api.deps import ConnDep
from services.county.api.models.ops import Digest
from services.county.api.responses import Json, ok
from services.county.queries import digest as q

router = APIRouter(
    prefix="/api/v1/digest", tags=["digest"], dependencies=[require(Role.AUDITOR, Role.OPERATOR)]
)


@router.get(
    "",
    summary="Digest of the business projections",
    description="SHA-256 over every business projection's canonically sorted rows: equal to the "
    "digest after rebuilding from the archive, on SQLite and PostgreSQL alike.",
    responses=ok(Digest),
)
def projection_digest(conn: ConnDep) -> Json:
    return Json(q.projection_digest(conn))
