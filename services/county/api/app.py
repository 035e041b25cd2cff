"""The county's FastAPI app: every query router, /health, /metrics, and errors that name the field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.county import web
from services.county.api.metrics import ScrapeCollector
from services.county.api.routes import ROUTERS
from services.county.queries.common import NotFoundError, ping
from shared.errors import FieldError

_LOCATIONS = ("query", "path", "body", "header", "cookie")

DESCRIPTION = """The county's view of its mobile Party members (流动党员) and of its outstations'
work: the three-level roster, dual management and its alerts, pioneer, fund and education
figures, node health, conflicts, quarantine and the projection digest.

Times are UTC text (`2026-11-27T01:25:05.000000Z`), dates China dates (`YYYY-MM-DD`), money
integer fen (分). A refused request gets a 4xx whose `detail` items name the `field`."""


def _field(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts)


def create_app(
    engine: Engine,
    *,
    health: Callable[[], dict[str, Any]] | None = None,
    metrics_registry: CollectorRegistry | None = None,
) -> FastAPI:
    """The query API over `engine` (which the caller owns); `health` adds to /health and
    `metrics_registry` (e.g. the ingest loop's) to /metrics."""
    app = FastAPI(title="Tongxin county", version="1", description=DESCRIPTION)
    app.state.engine = engine
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(ScrapeCollector(engine))

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": [exc.to_dict()]})

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [exc.to_dict()]})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422, with `field` and `message` added so that every error reads alike."""
        detail = [
            {
                "field": _field(e.get("loc", ())),
                "message": str(e.get("msg", "")),
                "loc": [str(p) for p in e.get("loc", ())],
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.get("/health", tags=["ops"], summary="Database reachable (and the caller's own checks)")
    def health_check() -> JSONResponse:
        extra = health() if health is not None else {}
        try:
            with engine.connect() as conn:
                ping(conn)
        except SQLAlchemyError as exc:
            body = {**extra, "status": "unavailable", "database": f"unreachable ({type(exc).__name__})"}
            return JSONResponse(status_code=503, content=body)
        return JSONResponse(content={**extra, "status": "ok", "database": "ok"})

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        description="Open quarantine and per-node lag, silence, held-back envelopes and skew, read "
        "at scrape time, plus the metrics of the registry the app was given.",
        response_class=Response,
    )
    def metrics() -> Response:
        text = generate_latest(scrape)
        if metrics_registry is not None:
            text += generate_latest(metrics_registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    for router in ROUTERS:
        app.include_router(router)
    web.mount(app)
    return app
