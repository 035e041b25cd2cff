"""Dependencies of the query API: a database connection per request and the shared query parameters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import fields
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import StringConstraints
from sqlalchemy import Connection, Engine

from services.county.api.auth import township_for
from services.county.api.expensive import held
from services.county.audit.replay import Bounds
from services.county.audit.replay_cache import ReplayCache, is_past
from services.county.queries.asof import KNOWN_AT, AsOf, parse_point
from services.county.queries.figures import FigureFilter, GroupBy
from shared.catalog.base import OutstationMode
from shared.catalog.status import Status
from shared.errors import FieldError
from shared.ids import SLUG_PATTERN

SLUG = SLUG_PATTERN
TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
"""Query text as `shared.bounds.TEXT_PATTERN` takes it (a query string holds no lone surrogate:
it is decoded from UTF-8); pydantic's regex engine refuses the surrogate range itself."""
SLUG_LIST = rf"^({SLUG_PATTERN[1:-1]})?(,({SLUG_PATTERN[1:-1]})?)*$"
"""Node ids separated by commas (empty items ignored)."""
NodeId = Annotated[str, StringConstraints(pattern=SLUG)]
NodeIds = Annotated[str, StringConstraints(pattern=SLUG_LIST, max_length=4096)]
SLUG_OR_UNREGISTERED = rf"^(-|{SLUG_PATTERN[1:-1]})$"
MEMBER_ID = r"^[0-9a-f]{32}$"


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_conn(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """One read connection per request; on PostgreSQL one snapshot, so a page's figures agree."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]

AS_OF = (
    "Business time D: a date (`2026-03-05`, the end of that day in China Standard Time) or a time "
    "with a zone (`2026-03-05T10:00:00+08:00`). The answer as it stood at D, read from the members' "
    "timeline; absent: now (the live projections)."
)
KNOWN_AT_PARAM = (
    KNOWN_AT + " Answered by replaying that part of the archive into a scratch database (slow on a "
    "large archive; settled times are cached); at or after now, the live projections."
)
"""The `known_at` parameter's description: its one meaning (`queries/asof.KNOWN_AT`), and how the
API answers it."""
KNOWN_AT_NOTE = (
    "`known_at` T, here as on every route that takes it: the answer as the county's projections held "
    "it at T — each node's chain up to its first envelope still missing at T, a quarantined message "
    "from when it was resolved (details on the parameter)."
)
"""The sentence every route taking `known_at` ends its description with: one meaning everywhere."""


def as_of_param(
    as_of: Annotated[str | None, Query(max_length=64, description=AS_OF, examples=["2026-03-05"])] = None,
) -> AsOf | None:
    return None if as_of is None else parse_point(as_of, "as_of")


def known_at_param(
    known_at: Annotated[
        str | None, Query(max_length=64, description=KNOWN_AT_PARAM, examples=["2026-03-05T18:00:00+08:00"])
    ] = None,
) -> str | None:
    return None if known_at is None else parse_point(known_at, "known_at").moment


AsOfDep = Annotated[AsOf | None, Depends(as_of_param)]
KnownAtDep = Annotated[str | None, Depends(known_at_param)]
_replays_lock = threading.Lock()


def get_replays(request: Request) -> ReplayCache:
    """The app's cache of replays (`known_at`); routes/audit_time.py closes it at shutdown."""
    with _replays_lock:
        cache: ReplayCache | None = getattr(request.app.state, "replays", None)
        if cache is None:
            cache = request.app.state.replays = ReplayCache()
    return cache


def get_point_conn(request: Request, engine: EngineDep, known_at: KnownAtDep) -> Iterator[Connection]:
    """The live database; with a past `known_at` T, a replay of what the projections held at T,
    as the caller's one heavy job (`api/expensive.py`: else a 429 naming `known_at`)."""
    if known_at is None or not is_past(known_at):
        yield from get_conn(engine)
        return
    with (
        held(request, "known_at"),
        get_replays(request).use(engine, Bounds(known_at=known_at)) as scratch,
        scratch.engine.connect() as conn,
    ):
        yield conn


PointConnDep = Annotated[Connection, Depends(get_point_conn, scope="function")]
"""A connection for a query that takes `known_at` (and usually `as_of`); its route declares
`errors.BUSY` among its `responses=`."""

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1–1000).")]
MAX_OFFSET = 10**9
"""More rows than any county holds, far below the databases' 64-bit limit."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip (0–1,000,000,000).")]
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
    str | None,
    Query(min_length=1, max_length=200, pattern=TEXT, description="Host location, exactly as recorded."),
]


def scoped_township(request: Request, township: Township = None) -> str | None:
    return township_for(request, township)


ScopedTownship = Annotated[str | None, Depends(scoped_township)]
"""The `township` parameter, a township officer held to their own (see `auth.township_for`)."""
StatusFilter = Annotated[Status | None, Query(description="Only members with this status.")]


def roster_filters(
    *, outstation: Outstation = None, host_location: HostLocation = None, status: StatusFilter = None
) -> dict[str, Any]:
    return {"outstation": outstation, "host_location": host_location, "status": status}


RosterFilters = Annotated[dict[str, Any], Depends(roster_filters)]
NameSearch = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=50,
        pattern=TEXT,
        description="Only members whose name contains this text (case-insensitive; names are "
        "opened at read time, so the level's counts are not narrowed by it).",
    ),
]


def figure_filter(
    request: Request,
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
    known_at: KnownAtDep = None,
    as_of: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Business time D (a date, or a time with a zone): only facts that occurred on or "
            "before D's China date — the same as `to` (the earlier of the two applies); education's "
            "coverage and study accounts read the roster as it stood at D.",
        ),
    ] = None,
) -> dict[str, Any]:
    point = None if as_of is None else parse_point(as_of, "as_of")
    if point is not None:
        if date_from is not None and date_from > point.day:
            raise FieldError("as_of", f"{point.day} is before from ({date_from})")
        date_to = point.day if date_to is None else min(date_to, point.day)
    township = township_for(request, township)
    found = FigureFilter(date_from, date_to, org, mode, township, group_by, known_at, point)
    return {f.name: getattr(found, f.name) for f in fields(found)}  # not asdict: it would unpack `as_of`


FigureFilters = Annotated[dict[str, Any], Depends(figure_filter)]
