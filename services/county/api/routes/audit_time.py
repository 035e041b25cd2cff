"""/api/v1/audit: time endpoints for auditors — replay to a point in time, and the live digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request

from services.county.accounts.roles import AUDIT
from services.county.api.auth import require
from services.county.api.deps import KNOWN_AT_NOTE, AsOfDep, ConnDep, EngineDep, KnownAtDep, get_replays
from services.county.api.errors import BUSY
from services.county.api.expensive import heavy_job
from services.county.api.models.audit import AuditDigest, Replayed
from services.county.api.responses import Json, ok
from services.county.audit.replay import Bounds
from services.county.audit.replay_cache import ReplayCache
from services.county.queries.digest import as_of_summary, projection_digest


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Remove the scratch databases of cached replays when the app shuts down."""
    yield
    cache: ReplayCache | None = getattr(app.state, "replays", None)
    if cache is not None:
        cache.close()


router = APIRouter(prefix="/api/v1/audit", tags=["audit"], lifespan=_lifespan, dependencies=[require(*AUDIT)])

AS_OF_DIGEST = """The as-of digest (with `as_of` D) is SHA-256 over, canonically sorted: the roster
rows valid at D (member_id, name, home_branch, outstation, host_location, host_org, status,
cross_posts — from the member timeline), the co-managers those rows give, and the figures' facts
of events that occurred by D. Read from the live timeline it equals a replay of only the events
that occurred by D."""


@router.get(
    "/replay",
    summary="Rebuild the projections up to a point in time and give their digest and counts",
    description="Replays the archive into a scratch database: with `known_at`, only what the county "
    "had received by then (an envelope held behind a gap, or quarantined until later, counts from "
    "when it was projected); with `as_of`, only events that occurred by then. Without either, a full "
    "replay, whose `digest` equals GET /api/v1/audit/digest (DESIGN §3.5). Slow on a large archive "
    "(a replay per request; settled `known_at` replays are cached). " + AS_OF_DIGEST + " " + KNOWN_AT_NOTE,
    responses={**ok(Replayed), **BUSY},
)
def replay(
    _: Annotated[None, Depends(heavy_job(""), scope="function")],
    request: Request,
    engine: EngineDep,
    as_of: AsOfDep,
    known_at: KnownAtDep,
) -> Json:
    bounds = Bounds(known_at=known_at, as_of=as_of.moment if as_of is not None else None)
    with get_replays(request).use(engine, bounds) as scratch:
        return Json(scratch.result.to_dict())


@router.get(
    "/digest",
    summary="The live projection digest (and, with `as_of`, the as-of digest)",
    description="SHA-256 over every business projection's canonically sorted rows, with row "
    "counts and the roster by status. " + AS_OF_DIGEST,
    responses=ok(AuditDigest),
)
def digest(conn: ConnDep, as_of: AsOfDep) -> Json:
    moment = as_of.moment if as_of is not None else None
    return Json({**projection_digest(conn), **as_of_summary(conn, moment)})
