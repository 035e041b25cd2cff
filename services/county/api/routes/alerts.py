"""/api/v1/alerts: members and candidates that need attention under dual management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from services.county.accounts.roles import READERS, Role
from services.county.api.auth import AuthError, current, require
from services.county.api.deps import (
    KNOWN_AT_NOTE,
    AsOfDep,
    Limit,
    Offset,
    PointConnDep,
    ScopedTownship,
    Village,
)
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.alerts import Alerts
from services.county.api.responses import Json, ok
from services.county.api.routes.reveals import personal_view
from services.county.queries import alerts as q
from services.county.queries.common import UNREGISTERED, load_tree

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[require(*READERS)])

AlertKindQuery = Annotated[q.AlertKind | None, Query(description="Only items of this kind.")]
PLACE = """`township` and `village` as for the roster (a member's village is their home branch; `-`
selects the unregistered); a township officer is held to their own township, and a village of
another is 403 naming `village`. Within a village there are no recruitment alerts (a candidate is
placed by the organisation of their first review). """


def scoped_village(request: Request, conn: Connection, township: str | None, village: str | None) -> None:
    """A township officer's `village` must lie in their township (403 naming `village`)."""
    if village is None or village == UNREGISTERED or current(request).role is not Role.TOWNSHIP_OFFICER:
        return
    if load_tree(conn).township_of(village) != township:
        raise AuthError(403, "village", f"a township officer sees township {township} only")


@router.get(
    "",
    summary="Alerts: counts per kind and one page of items",
    description="""Kinds:
`no_orglife_90d` — a member who is away (out or contact lost) with no organisational life
on or after the day 90 days before `as_of`;
`untrained_this_year` — a member who is away with no training in the year of `as_of`;
`contact_lost` — a member out of contact;
`recruitment_awaiting_second_review` — a candidate approved by one side of the dual review
(outstation or home) while the other side has not decided;
`no_outstation` — a member who is away and attached to no outstation.

`counts` covers every kind (within `township`); `items` only `kind` if given, ordered by kind,
then name, then member id. """
    + PLACE
    + """Without `as_of`, alerts read the live projections and judge by
today. With `as_of` (business time D), they read the roster as it stood at D (members registered
by then, their status and outstation then), attendance by D and the dual review by D; D's China
date places the 90-day window and picks the year. """
    + KNOWN_AT_NOTE,
    responses={**ok(Alerts), **NOT_FOUND, **BUSY},
)
def list_alerts(
    *,
    request: Request,
    conn: PointConnDep,
    as_of: AsOfDep,
    kind: AlertKindQuery = None,
    township: ScopedTownship,
    village: Village = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Json:
    scoped_village(request, conn, township, village)
    view = personal_view(request)
    found = q.alerts(
        conn,
        kind=kind,
        township=township,
        village=village,
        as_of=as_of,
        limit=limit,
        offset=offset,
        view=view,
    )
    return Json(found)
