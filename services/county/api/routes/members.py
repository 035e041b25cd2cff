"""/api/v1/members: one member's card and their dual management (一方隶属、多方管理)."""

from __future__ import annotations

from fastapi import APIRouter

from services.county.api.deps import KNOWN_AT_NOTE, AsOfDep, MemberIdPath, PointConnDep
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.members import MemberCard, MemberManagement
from services.county.api.responses import Json, ok
from services.county.queries import members as q

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.get(
    "/{member_id}",
    summary="A member's card",
    description="The roster row (township, village, outstation and host organisation with their "
    "names), co-managers, latest organisational life and training, years trained, whether a "
    "study account is open, conflicts about the member, the dual review if the member is also a "
    "candidate, and the archived events about the member in business order. With `as_of`, each as "
    "it stood at that business time (404 if the member was not registered by then). " + KNOWN_AT_NOTE,
    responses={**ok(MemberCard), **NOT_FOUND, **BUSY},
)
def member_card(conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> Json:
    return Json(q.member_card(conn, member_id, as_of))


@router.get(
    "/{member_id}/co-managers",
    summary="Dual management of a member: the one affiliation and every co-manager",
    description="The affiliation is the home village branch; co-managers are the outstation and "
    "host-location organisation while the member is away (out or contact lost) and every "
    "organisation where the member holds a cross post (none once transferred out). `as_of` as for "
    "the card. " + KNOWN_AT_NOTE,
    responses={**ok(MemberManagement), **NOT_FOUND, **BUSY},
)
def member_management(conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> Json:
    return Json(q.member_management(conn, member_id, as_of))
