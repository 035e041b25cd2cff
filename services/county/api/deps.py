"""Dependencies of the query API: a database connection per request and the shared query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy import Connection, Engine

from services.county.api.queries import FigureFilter, GroupBy, Status
from shared.catalog.base import OutstationMode

SLUG = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SLUG_OR_UNREGISTERED = r"^(-|[a-z0-9][a-z0-9_-]{0,63})$"
MEMBER_ID = r"^[0-9a-f]{32}$"

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        }
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "Nothing with that id; `detail[0].field` names the parameter",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    }
}


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """One read connection per request; on PostgreSQL one snapshot, so a page's figures agree."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1–1000).")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip (≥ 0).")]
MemberIdPath = Annotated[
    str, Path(pattern=MEMBER_ID, description="The member id: 32 hex digits (keyed hash of the ID number).")
]
OrgIdPath = Annotated[str, Path(pattern=SLUG, description="An organisation id such as `dongguan`.")]
Township = Annotated[
    str | None,
    Query(
        pattern=SLUG_OR_UNREGISTERED,
        description="A township committee's org id; `-` selects members whose township is not registered.",
    ),
]
Village = Annotated[
    str | None,
    Query(
        pattern=SLUG_OR_UNREGISTERED,
        description="A village branch's org id; `-` selects members whose branch is not registered.",
    ),
]
Outstation = Annotated[str | None, Query(pattern=SLUG, description="The outstation's org id.")]
HostLocation = Annotated[
    str | None, Query(min_length=1, max_length=200, description="Host location, exactly as recorded.")
]
StatusFilter = Annotated[Status | None, Query(description="Only members with this status.")]


def roster_filters(
    *, outstation: Outstation = None, host_location: HostLocation = None, status: StatusFilter = None
) -> dict[str, Any]:
    return {"outstation": outstation, "host_location": host_location, "status": status}


RosterFilters = Annotated[dict[str, Any], Depends(roster_filters)]


def figure_filter(
    *,
    date_from: Annotated[
        date | None, Query(alias="from", description="First day (China date the event occurred), inclusive.")
    ] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Last day, inclusive.")] = None,
    org: Annotated[str | None, Query(pattern=SLUG, description="Only this organisation's facts.")] = None,
    mode: Annotated[
        OutstationMode | None, Query(description="Only facts of outstations run in this mode.")
    ] = None,
    township: Annotated[
        str | None,
        Query(
            pattern=SLUG_OR_UNREGISTERED,
            description="Only facts of organisations in this township (`-`: in none).",
        ),
    ] = None,
    group_by: Annotated[GroupBy | None, Query(description="Also give the figures per group.")] = None,
    known_at: Annotated[
        datetime | None,
        Query(description="Only what the county had received by then (RFC 3339 with a zone)."),
    ] = None,
) -> dict[str, Any]:
    return asdict(FigureFilter(date_from, date_to, org, mode, township, group_by, known_at))


FigureFilters = Annotated[dict[str, Any], Depends(figure_filter)]
