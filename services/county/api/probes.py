"""`GET /health` (liveness: the process answers and its database does) and `GET /ready`
(readiness: the database answers and the ingest is connected to NATS and consuming). Both are
public and hold no data; both ping the database on threads of their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from services.county.api.auth import public
from services.county.api.models.ops import Health, Readiness
from services.county.api.responses import ok
from services.county.queries.common import ping

PROBE_THREADS = 2
"""/health and /ready ping the database on threads of their own, never queued behind slow
queries that fill the default threadpool."""


@dataclass(frozen=True)
class IngestState:
    """What /ready asks of the ingest loop of this process (`Consumer.state`)."""

    connected: bool
    consuming: bool


def mount_probes(
    app: FastAPI,
    engine: Engine,
    health: Callable[[], dict[str, Any]] | None,
    ingest: Callable[[], IngestState] | None,
) -> None:
    """`health` adds to /health; `ingest` is the ingest's state (None: no ingest in this
    process, so /ready never says ready)."""
    threads = anyio.CapacityLimiter(PROBE_THREADS)

    def database() -> str | None:
        """None when the database answers, else why not."""
        try:
            with engine.connect() as conn:
                ping(conn)
        except SQLAlchemyError as exc:
            return f"unreachable ({type(exc).__name__})"
        return None

    @app.get(
        "/health",
        tags=["ops"],
        summary="Liveness: the process and its database answer (and the caller's own checks)",
        openapi_extra=public("liveness for load balancers and systemd; no data"),
        responses={**ok(Health), 503: {"model": Health, "description": "The database did not answer"}},
    )
    async def health_check() -> JSONResponse:
        return await anyio.to_thread.run_sync(check_health, limiter=threads)

    def check_health() -> JSONResponse:
        extra = health() if health is not None else {}
        down = database()
        if down is not None:
            body = {**extra, "status": "unavailable", "database": down}
            return JSONResponse(status_code=503, content=body)
        return JSONResponse(content={**extra, "status": "ok", "database": "ok"})

    @app.get(
        "/ready",
        tags=["ops"],
        summary="Readiness: the database answers and the ingest is connected to NATS and consuming",
        openapi_extra=public("readiness for load balancers and orchestrators; no data"),
        responses={
            **ok(Readiness),
            503: {
                "model": Readiness,
                "description": "Not ready: `not_ready` names the database, nats or ingest",
            },
        },
    )
    async def ready_check() -> JSONResponse:
        return await anyio.to_thread.run_sync(check_ready, limiter=threads)

    def check_ready() -> JSONResponse:
        down = database()
        state = ingest() if ingest is not None else None
        body: dict[str, Any] = {
            "database": down or "ok",
            "nats": "not run by this process"
            if state is None
            else ("connected" if state.connected else "disconnected"),
            "ingest": "not run by this process"
            if state is None
            else ("consuming" if state.consuming else "not consuming"),
        }
        not_ready = [
            name
            for name, fine in (
                ("database", down is None),
                ("nats", state is not None and state.connected),
                ("ingest", state is not None and state.consuming),
            )
            if not fine
        ]
        body = {"status": "not_ready" if not_ready else "ready", **body, "not_ready": not_ready}
        return JSONResponse(status_code=503 if not_ready else 200, content=body)
