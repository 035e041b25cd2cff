"""The node's local HTTP API: record events (one or a batch), read signed envelopes, status, metrics."""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from starlette.concurrency import run_in_threadpool

from services.branch_node.application import BatchError
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.branch_node.web import mount_outstation
from shared.errors import FieldError

EVENT_EXAMPLE = {
    "type": "fund.received",
    "occurred_at": "2026-11-20T10:00:00+08:00",
    "payload": {"org_id": "dongguan", "source": "host_subsidy", "amount_fen": 500000},
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.recorded = Counter("tongxin_node_events_recorded", "Events appended", registry=self.registry)
        self.refused = Counter(
            "tongxin_node_requests_refused", "Requests refused as bad input", registry=self.registry
        )
        self.last_seq = Gauge("tongxin_node_last_seq", "Highest seq in the log", registry=self.registry)
        self.forwarded = Gauge(
            "tongxin_node_forwarded_seq",
            "Highest seq acknowledged by JetStream",
            registry=self.registry,
        )
        self.backlog = Gauge("tongxin_node_backlog", "Events waiting to be forwarded", registry=self.registry)
        self.connected = Gauge(
            "tongxin_node_nats_connected", "1 while connected to NATS", registry=self.registry
        )
        self.failures = Gauge(
            "tongxin_node_forward_failures",
            "Forwarding interruptions so far",
            registry=self.registry,
        )


def _error(status: int, errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": errors})


async def _json_body(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FieldError("body", f"not valid JSON: {exc}") from None


def create_app(node: NodeService, forwarder: Forwarder | None = None) -> FastAPI:
    """The app for one open node; `forwarder` is the live forwarder when serving."""
    metrics = Metrics()
    router = APIRouter(prefix="/api/v1", tags=["events"])
    app = FastAPI(title=f"Tongxin branch node {node.node_id}", version="1")

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        metrics.refused.inc()
        status = 400 if exc.field == "body" else 422
        return _error(status, [exc.to_dict()])

    @app.exception_handler(BatchError)
    async def batch_error(_: Request, exc: BatchError) -> JSONResponse:
        metrics.refused.inc()
        return _error(422, [{"index": i, **e.to_dict()} for i, e in exc.errors])

    @router.post(
        "/events",
        status_code=201,
        summary="Record one event",
        openapi_extra={"requestBody": {"content": {"application/json": {"example": EVENT_EXAMPLE}}}},
    )
    async def record_one(request: Request) -> dict[str, Any]:
        new = parse_item(await _json_body(request), node.county_secret)
        (seq,) = await _record(node, [new], metrics, forwarder)
        return {"seq": seq, "event_id": str(new.event_id)}

    @router.post(
        "/events/batch",
        status_code=201,
        summary="Record a batch of events, all or nothing",
        openapi_extra={
            "requestBody": {"content": {"application/json": {"example": {"events": [EVENT_EXAMPLE]}}}}
        },
    )
    async def record_batch(request: Request) -> dict[str, Any]:
        data = await _json_body(request)
        items = data.get("events") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise FieldError("events", "required: a non-empty list of events")
        parsed, errors = [], []
        for i, item in enumerate(items):
            try:
                parsed.append(parse_item(item, node.county_secret))
            except FieldError as exc:
                errors.append((i, exc))
        if errors:
            raise BatchError(errors)
        seqs = await _record(node, parsed, metrics, forwarder)
        return {"seqs": seqs}

    @router.get("/events", summary="Signed envelopes after a seq, in seq order")
    def events_after(
        after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 100
    ) -> Response:
        rows = node.envelopes.after(after, limit)
        body = b'{"events":[' + b",".join(data for _, data in rows) + b"]}"
        return Response(body, media_type="application/json")

    @router.get("/status", summary="Log, forwarding and connectivity")
    def status() -> dict[str, Any]:
        return _status(node, forwarder)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        node.log.last_seq()
        return {"status": "ok"}

    @app.get("/metrics", tags=["ops"])
    def prometheus() -> Response:
        st = node.status()
        metrics.last_seq.set(st.last_seq)
        metrics.forwarded.set(st.forwarded_seq)
        metrics.backlog.set(st.backlog)
        if forwarder is not None:
            metrics.connected.set(1 if forwarder.state.connected else 0)
            metrics.failures.set(forwarder.state.failures)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    mount_outstation(app, node, lambda events: _record(node, events, metrics, forwarder))
    return app


async def _record(
    node: NodeService, events: list[Any], metrics: Metrics, forwarder: Forwarder | None
) -> list[int]:
    seqs = await run_in_threadpool(node.record, events)
    metrics.recorded.inc(len(seqs))
    if forwarder is not None:
        forwarder.wake.set()  # forward now rather than at the next idle poll
    return seqs


def _status(node: NodeService, forwarder: Forwarder | None) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(node.status())
    if forwarder is not None:
        out["nats_connected"] = forwarder.state.connected
        out["last_error"] = forwarder.state.last_error
    return out
