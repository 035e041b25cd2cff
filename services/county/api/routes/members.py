"""/api/v1/members: one member's card and their dual management (一方隶属、多方管理)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.county.api.deps import NOT_FOUND, AsOfDep, MemberIdPath, PointConnDep
from services.county.queries import members as q

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.get(
    "/{member_id}",
    summary="A member's card",
    description="The roster row (township, village, outstation and host organisation with their "
    "names), co-managers, latest organisational life and training, years trained, whether a "
    "study account is open, conflicts about the member, the dual review if the member is also a "
    "candidate, and the archived events about the member in business order. With `as_of`, each as "
    "it stood at that business time (404 if the member was not registered by then); with "
    "`known_at`, as the county knew it then.",
    responses=NOT_FOUND,
)
def member_card(conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> dict[str, Any]:
    return q.member_card(conn, member_id, as_of)


@router.get(
    "/{member_id}/co-managers",
    summary="Dual management of a member: the one affiliation and every co-manager",
    description="The affiliation is the home village branch; co-managers are the outstation and "
    "host-location organisation while the member is away (out or contact lost) and every "
    "organisation where the member holds a cross post (none once transferred out). `as_of` and "
    "`known_at` as for the card.",
    responses=NOT_FOUND,
)
def member_management(conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> dict[str, Any]:
    return q.member_management(conn, member_id, as_of)
