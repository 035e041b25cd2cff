"""/api/v1/members: one member's card and their dual management (一方隶属、多方管理)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.county.accounts.roles import READERS
from services.county.api.auth import in_scope, require
from services.county.api.deps import KNOWN_AT_NOTE, AsOfDep, MemberIdPath, PointConnDep
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.members import MemberCard, MemberManagement
from services.county.api.responses import Json, ok
from services.county.api.routes.reveals import personal_view
from services.county.queries import members as q
from services.county.queries.common import NotFoundError

router = APIRouter(prefix="/api/v1/members", tags=["members"], dependencies=[require(*READERS)])


@router.get(
    "/{member_id}",
    summary="A member's card",
    description="The roster row (township, village, outstation and host organisation with their "
    "names), co-managers (name in clear, ID number and phone masked for every role; "
    "`POST /api/v1/members/{member_id}/reveal` shows them in full, recorded), latest "
    "organisational life and training, years trained, whether a "
    "study account is open, conflicts about the member, the dual review if the member is also a "
    "candidate, and the archived events about the member in business order (each with the "
    "`node_name` of the node that sent it). With `as_of`, each as "
    "it stood at that business time (404 if the member was not registered by then). " + KNOWN_AT_NOTE,
    responses={**ok(MemberCard), **NOT_FOUND, **BUSY},
)
def member_card(request: Request, conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> Json:
    card = _in_scope(request, q.member_card(conn, member_id, as_of))
    personal_view(request).present(conn, [card])
    return Json(card)


@router.get(
    "/{member_id}/co-managers",
    summary="Dual management of a member: the one affiliation and every co-manager",
    description="The affiliation is the home village branch; co-managers are the outstation and "
    "host-location organisation while the member is away (out or contact lost) and every "
    "organisation where the member holds a cross post (none once transferred out). `as_of` as for "
    "the card. " + KNOWN_AT_NOTE,
    responses={**ok(MemberManagement), **NOT_FOUND, **BUSY},
)
def member_management(request: Request, conn: PointConnDep, member_id: MemberIdPath, as_of: AsOfDep) -> Json:
    found = q.member_management(conn, member_id, as_of)
    personal_view(request).names(conn, [found])
    _in_scope(request, {"member_id": member_id, "township": found["affiliation"]["township"]})
    return Json(found)


def _in_scope(request: Request, card: dict[str, Any]) -> dict[str, Any]:
    """The card, if the caller may see the member: a township officer only their township's
    (another township's member is absent, as if unknown: no oracle of who exists)."""
    if not in_scope(request, card["township"], placed=True):
        raise NotFoundError("member_id", f"no member {card['member_id']!r}")
    return card
