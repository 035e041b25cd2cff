"""/api/v1/orgs: the organisation tree and the members each organisation co-manages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.county.api.deps import NOT_FOUND, AsOfDep, ConnDep, OrgIdPath, PointConnDep
from services.county.queries import members as q
from shared.catalog.base import OrgKind

router = APIRouter(prefix="/api/v1/orgs", tags=["orgs"])


@router.get(
    "",
    summary="Registered organisations",
    description="Every organisation of the tree (county committee, township committees, village "
    "branches, outstations, host-location organisations, township chambers) with its township.",
)
def list_orgs(
    conn: ConnDep,
    kind: Annotated[OrgKind | None, Query(description="Only organisations of this kind.")] = None,
) -> dict[str, Any]:
    return q.list_orgs(conn, kind.value if kind else None)


@router.get(
    "/{org_id}/co-managed",
    summary="Dual management of an organisation: the members it co-manages, by role",
    description="Roles: `outstation`, `host_org`, `cross_post`; `counts.affiliated` is how many "
    "members have this organisation as their home branch. With `as_of`, by the members' state at "
    "that business time; with `known_at`, as the county knew it then.",
    responses=NOT_FOUND,
)
def org_co_managed(conn: PointConnDep, org_id: OrgIdPath, as_of: AsOfDep) -> dict[str, Any]:
    return q.org_co_managed(conn, org_id, as_of)
