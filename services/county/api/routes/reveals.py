"""Reveals (issue 15): a member's personal data in full, by right and with a reason, recorded.

Every read of the roster, cards and exports shows ID numbers and phones masked, for every role.
An auditor or operator reveals one member (`POST /api/v1/members/{member_id}/reveal`) or exports
the roster in full (`POST /api/v1/reveals/roster.csv|.xlsx`), stating why; each reveal is
recorded (who, role, whom, when, why) and listed at `GET /api/v1/reveals`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from services.county.accounts.roles import Role
from services.county.api.auth import CurrentDep, require
from services.county.api.deps import (
    EngineDep,
    Limit,
    MemberIdPath,
    Offset,
    RosterFilters,
    ScopedTownship,
    Village,
)
from services.county.api.errors import NOT_FOUND
from services.county.api.expensive import heavy_job
from services.county.api.models.base import Model
from services.county.api.responses import CSV_TYPE, XLSX_TYPE, Json, download, file, ok
from services.county.exports import layout
from services.county.exports.roster_book import RosterAsk, RosterBook
from services.county.personal import reveals
from services.county.personal.view import MASKED, PersonalView
from services.county.projections import roster
from services.county.queries.common import NotFoundError

REVEALERS = (Role.AUDITOR, Role.OPERATOR)
REASON = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""One line of text with something in it: no control characters (NUL among them)."""
router = APIRouter(prefix="/api/v1", tags=["reveals"], dependencies=[require(*REVEALERS)])
HeavyJob = Annotated[None, Depends(heavy_job(""), scope="function")]


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=4, max_length=reveals.MAX_REASON, pattern=REASON)
    """Why the data is needed (recorded with the reveal): one line of text, not blank."""


class Reveal(Model):
    id: int
    at: str
    username: str
    role: str
    member_id: str | None
    scope: str
    reason: str


class Revealed(Model):
    member_id: str
    name: str
    id_number: str | None
    phone: str | None
    reveal: Reveal


class Reveals(Model):
    total: int
    limit: int
    offset: int
    items: list[Reveal]


def personal_view(request: Request) -> PersonalView:
    view: PersonalView = getattr(request.app.state, "personal", MASKED)
    return view


@router.post(
    "/members/{member_id}/reveal",
    summary="One member's personal data in full, with a reason (recorded)",
    description="The name, ID number and phone of one member, unmasked; the reveal is recorded "
    "(who, role, whom, when, why) whether or not the member's key has arrived.",
    responses={**ok(Revealed), **NOT_FOUND},
)
def reveal_member(
    request: Request, engine: EngineDep, principal: CurrentDep, member_id: MemberIdPath, body: RevealRequest
) -> Json:
    with engine.begin() as conn:
        row = (
            conn.execute(select(roster.members).where(roster.members.c.member_id == member_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFoundError("member_id", f"no member {member_id!r}")
        item = {"member_id": member_id, "name": row["name"], "personal": row["personal"]}
        personal_view(request).present(conn, [item], reveal=True)
        done = reveals.record(
            conn, principal.username, principal.role.value, member_id, "member", body.reason
        )
    return Json({**item, "reveal": done})


@router.get(
    "/reveals",
    summary="Every reveal of personal data, newest first",
    responses=ok(Reveals),
)
def list_reveals(
    engine: EngineDep,
    member_id: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{32}$", description="Only this member's.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    with engine.connect() as conn:
        return Json(reveals.listed(conn, member_id, limit, offset))


def _revealed_book(
    request: Request, engine: Engine, principal: Any, scope: str, reason: str, ask: RosterAsk
) -> RosterBook:
    """The roster in full, the reveal recorded in the same transaction."""
    with engine.begin() as conn:
        book = RosterBook(conn, ask, view=personal_view(request), reveal=True)
        reveals.record(conn, principal.username, principal.role.value, None, scope, reason)
    return book


@router.post(
    "/reveals/roster.csv",
    summary="The roster CSV with personal data in full, with a reason (recorded)",
    description="The rows of `GET /api/v1/roster/members.csv`, ID numbers and phones unmasked; "
    "the export is recorded as one reveal (scope `roster.csv` and the filters).",
    response_class=Response,
    responses={**file(CSV_TYPE, "CSV with a header row"), **NOT_FOUND},
)
def reveal_roster_csv(
    _: HeavyJob,
    request: Request,
    engine: EngineDep,
    principal: CurrentDep,
    body: RevealRequest,
    filters: RosterFilters,
    township: ScopedTownship,
    village: Village = None,
) -> Response:
    params = {"township": township, "village": village, **filters}
    ask = RosterAsk(township, village, **filters)
    book = _revealed_book(request, engine, principal, _scope("roster.csv", params), body.reason, ask)
    return download(layout.csv_of(book.members()), CSV_TYPE, *book.names("csv"))


@router.post(
    "/reveals/roster.xlsx",
    summary="The roster workbook with personal data in full, with a reason (recorded)",
    description="Sheet `花名册` of `GET /api/v1/export/roster.xlsx`, ID numbers and phones "
    "unmasked; recorded as one reveal.",
    response_class=Response,
    responses={**file(XLSX_TYPE, "An .xlsx workbook"), **NOT_FOUND},
)
def reveal_roster_xlsx(
    _: HeavyJob,
    request: Request,
    engine: EngineDep,
    principal: CurrentDep,
    body: RevealRequest,
    filters: RosterFilters,
    township: ScopedTownship,
    village: Village = None,
) -> Response:
    params = {"township": township, "village": village, **filters}
    ask = RosterAsk(township, village, **filters)
    book = _revealed_book(request, engine, principal, _scope("roster.xlsx", params), body.reason, ask)
    return download(layout.to_xlsx([book.members()]), XLSX_TYPE, *book.names("xlsx"))


def _scope(name: str, params: dict[str, Any]) -> str:
    given = ",".join(f"{k}={v}" for k, v in sorted(params.items()) if v is not None)
    return f"{name}?{given}" if given else name
