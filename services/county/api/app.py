"""The county's FastAPI app: every query router, /health and /ready (`probes`), /metrics, and errors
that name the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine

from services.county import web
from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts
from services.county.api.auth import install_auth, require
from services.county.api.errors import declare_refusals, handle_refusals
from services.county.api.expensive import Gate
from services.county.api.headers import SecurityHeaders
from services.county.api.metrics import ScrapeCollector
from services.county.api.probes import IngestState, mount_probes
from services.county.api.responses import Json, file
from services.county.api.routes import ROUTERS, session
from services.county.personal.store import KeyStore
from services.county.personal.view import PersonalView
from shared.api_docs import serve_docs

DESCRIPTION = """The county's view of its mobile Party members (流动党员) and of its outstations'
work: the three-level roster, dual management and its alerts, pioneer, fund and education
figures, node health, conflicts, quarantine and the projection digest.

Times are UTC text (`2026-11-27T01:25:05.000000Z`), dates China dates (`YYYY-MM-DD`), money
integer fen (分). A refused request gets a 4xx whose `detail` items name the `field`.

Heavy jobs — verify, the exports, replays and every query with a past `known_at` — run one at a
time per caller and at most two at once in all; past that, a 429 with `Retry-After`."""


def create_app(
    engine: Engine,
    *,
    health: Callable[[], dict[str, Any]] | None = None,
    ingest: Callable[[], IngestState] | None = None,
    metrics_registry: CollectorRegistry | None = None,
    personal: KeyStore | None = None,
) -> FastAPI:
    """The query API over `engine` (which the caller owns); `health` adds to /health, `ingest`
    (the ingest loop's state) makes /ready, and `metrics_registry` (e.g. the ingest loop's) adds
    to /metrics."""
    app = FastAPI(
        title="Tongxin county",
        version="1",
        description=DESCRIPTION,
        default_response_class=Json,
        docs_url=None,
        redoc_url=None,
    )
    serve_docs(app)
    app.add_middleware(SecurityHeaders)
    app.state.engine = engine
    app.state.personal = PersonalView(personal)
    """Opens members' sealed personal data at read time (None: no key store, every name reads
    `（密钥未到）`)."""
    app.state.heavy_jobs = Gate()
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(ScrapeCollector(engine))
    handle_refusals(app)
    declare_refusals(app)
    install_auth(app, Accounts(engine))

    mount_probes(app, engine, health, ingest)

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        description="Open quarantine and per-node lag, silence, held-back envelopes, skew and how far "
        "the newest receipt is behind, read at scrape time, plus the metrics of the registry the app was "
        "given (`county serve`: the ingest's, with the events stream's size, limits and backlog).",
        response_class=Response,
        responses=file(CONTENT_TYPE_LATEST, "The Prometheus text format"),
        dependencies=[require(Role.OPERATOR)],
    )
    def metrics() -> Response:
        text = generate_latest(scrape)
        if metrics_registry is not None:
            text += generate_latest(metrics_registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    app.include_router(session.router)
    for router in ROUTERS:
        app.include_router(router)
    web.mount(app)
    return app
