"""/api/v1/orgs: the organisation tree and the members each organisation co-manages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.county.accounts.roles import READERS, Role
from services.county.api.auth import in_scope, require
from services.county.api.deps import KNOWN_AT_NOTE, AsOfDep, ConnDep, OrgIdPath, PointConnDep
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.members import OrgCoManaged, Orgs
from services.county.api.responses import Json, ok
from services.county.api.routes.reveals import personal_view
from services.county.queries import members as q
from services.county.queries.common import NotFoundError
from services.county.queries.roster import by_name
from shared.catalog.base import OrgKind

router = APIRouter(prefix="/api/v1/orgs", tags=["orgs"], dependencies=[require(*READERS, Role.OPERATOR)])


@router.get(
    "",
    summary="Registered organisations",
    description="Every organisation of the tree (county committee, township committees, village "
    "branches, outstations, host-location organisations, township chambers) with its township.",
    responses=ok(Orgs),
)
def list_orgs(
    request: Request,
    conn: ConnDep,
    kind: Annotated[OrgKind | None, Query(description="Only organisations of this kind.")] = None,
) -> Json:
    found = q.list_orgs(conn, kind.value if kind else None)
    items = [o for o in found["items"] if in_scope(request, o["township"])]
    return Json({"total": len(items), "items": items})


@router.get(
    "/{org_id}/co-managed",
    summary="Dual management of an organisation: the members it co-manages, by role",
    description="Roles: `outstation`, `host_org`, `cross_post`; `counts.affiliated` is how many "
    "members have this organisation as their home branch. With `as_of`, by the members' state at "
    "that business time. " + KNOWN_AT_NOTE,
    responses={**ok(OrgCoManaged), **NOT_FOUND, **BUSY},
)
def org_co_managed(request: Request, conn: PointConnDep, org_id: OrgIdPath, as_of: AsOfDep) -> Json:
    found = q.org_co_managed(conn, org_id, as_of)
    if not in_scope(request, found["township"]):
        raise NotFoundError("org_id", f"no organisation {org_id!r} in your township")
    if not in_scope(request, "-"):  # a township officer: only their township's members
        for role, members in found["co_managed"].items():
            found["co_managed"][role] = [m for m in members if in_scope(request, m["township"], placed=True)]
            found["counts"][role] = len(found["co_managed"][role])
    for role, members in found["co_managed"].items():
        personal_view(request).names(conn, members)
        found["co_managed"][role] = by_name(members)  # names exist once opened
    return Json(found)
