"""/api/v1/roster: the three-level dynamic roster (county → township → village → member)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.county.accounts.roles import READERS
from services.county.api.auth import require
from services.county.api.deps import (
    KNOWN_AT_NOTE,
    AsOfDep,
    Limit,
    NameSearch,
    Offset,
    PointConnDep,
    RosterFilters,
    ScopedTownship,
    Village,
)
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.roster import RosterLevel, RosterMembers
from services.county.api.responses import CSV_TYPE, Json, download, file, ok
from services.county.api.routes.reveals import personal_view
from services.county.exports import layout
from services.county.exports.roster_book import RosterAsk, RosterBook
from services.county.queries import roster as q

router = APIRouter(prefix="/api/v1/roster", tags=["roster"], dependencies=[require(*READERS)])

LEVELS = (
    """Without `township` or `village` the level is the county and the children are its
townships (every registered one, zeros included); with `township` the children are its village
branches; with `village` there are no children. A member's village is their home branch (the
one affiliation) and its township the township committee above it; members whose branch or
township is not registered yet are counted under id `null`, name "(未登记)", selected with `-`.
The children of a level always add up to it.

Point in time: `as_of` gives the roster as it stood at that business time (a member is on it
from their registration; status, outstation, host organisation and name are those valid then);
both combine with `known_at`. """
    + KNOWN_AT_NOTE
)


@router.get(
    "",
    summary="Roster counts at one level, by status, and for each child level",
    description=LEVELS,
    responses={**ok(RosterLevel), **NOT_FOUND, **BUSY},
)
def roster_summary(
    conn: PointConnDep,
    filters: RosterFilters,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
) -> Json:
    return Json(q.roster_summary(conn, township, village, as_of=as_of, **filters))


@router.get(
    "/members",
    summary="Members at a level of the roster, one page at a time",
    description="The same filters as the counts; ordered by name, then member_id. " + LEVELS,
    responses={**ok(RosterMembers), **NOT_FOUND, **BUSY},
)
def roster_members(
    *,
    request: Request,
    conn: PointConnDep,
    filters: RosterFilters,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
    name: NameSearch = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    view = personal_view(request)
    found = q.roster_members(
        conn, township, village, limit=limit, offset=offset, as_of=as_of, view=view, name=name, **filters
    )
    return Json(found)


@router.get(
    "/members.csv",
    summary="The same members as CSV (for Excel)",
    description="Every matching member (no paging), ID numbers and phones masked "
    "(`POST /api/v1/reveals/roster.csv`: an auditor's or operator's recorded export in full): the "
    "sheet `花名册` of `GET /api/v1/export/roster.xlsx` without its title row — Chinese headers, "
    "序号, statuses in words, organisations by name, times in China Standard Time "
    "(`2026-01-05 09:00`) — UTF-8 with a byte-order mark so that Excel shows the Chinese. The "
    "same filters as the members. " + KNOWN_AT_NOTE,
    response_class=Response,
    responses={**file(CSV_TYPE, "CSV with a header row"), **NOT_FOUND, **BUSY},
)
def roster_csv(
    request: Request,
    conn: PointConnDep,
    filters: RosterFilters,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
    name: NameSearch = None,
) -> Response:
    ask = RosterAsk(township, village, as_of, name=name, **filters)
    book = RosterBook(conn, ask, view=personal_view(request))
    return download(layout.csv_of(book.members()), CSV_TYPE, *book.names("csv"))
