"""/api/v1/digest: the projection digest an auditor compares with a rebuild (DESIGN §3.5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.county.api.deps import ConnDep
from services.county.queries import digest as q

router = APIRouter(prefix="/api/v1/digest", tags=["digest"])


@router.get(
    "",
    summary="Digest of the business projections",
    description="SHA-256 over every business projection's canonically sorted rows: equal to the "
    "digest after rebuilding from the archive, on SQLite and PostgreSQL alike.",
)
def projection_digest(conn: ConnDep) -> dict[str, Any]:
    return q.projection_digest(conn)
