"""The node's local HTTP API: record events (one or a batch), read signed envelopes, status, metrics.

Every route but `/health` and `/ready` (`probes`) needs the clerk (`web/signin.py`);
`web/guard.py` stands before all of them (Host, Origin, media type, body size, security headers).

"Forwarded" means the county has it: status, health and metrics tell what the county's receipts
confirm (`confirmed_seq`) from what was sent and is still unconfirmed and what waits to be sent;
a fork (the county holds a history this log does not) turns `/health` into 503 "forked".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Query, Request
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
from services.branch_node.clerk import Clerk
from services.branch_node.forwarder import Forwarder
from services.branch_node.inputs import parse_item, parse_json
from services.branch_node.limits import MAX_BATCH
from services.branch_node.probes import fork_of, mount_probes
from services.branch_node.refusals import PROTECTED, REFUSED, handle_refusals
from services.branch_node.service import NodeService
from services.branch_node.web import mount_outstation
from services.branch_node.web.guard import Guard
from services.branch_node.web.sessions import Sessions, Throttle
from services.branch_node.web.signin import Gate, mount_signin
from shared.api_docs import serve_docs
from shared.bounds import MAX_SEQ
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
            "Highest seq sent: acknowledged by JetStream (not yet the county's word)",
            registry=self.registry,
        )
        self.confirmed = Gauge(
            "tongxin_node_confirmed_seq",
            "Highest seq the county's newest receipt confirms, checked against the log",
            registry=self.registry,
        )
        self.unconfirmed = Gauge(
            "tongxin_node_unconfirmed",
            "Events sent but not yet confirmed by a county receipt (forwarded - confirmed)",
            registry=self.registry,
        )
        self.waiting = Gauge(
            "tongxin_node_waiting", "Events not sent yet (last - forwarded)", registry=self.registry
        )
        self.backlog = Gauge(
            "tongxin_node_backlog",
            "Events the county has not confirmed yet (last - confirmed); 0 means all reported",
            registry=self.registry,
        )
        self.forked = Gauge(
            "tongxin_node_forked",
            "1 while forwarding is stopped: the county's receipts and this log disagree",
            registry=self.registry,
        )
        self.connected = Gauge(
            "tongxin_node_nats_connected", "1 while connected to NATS", registry=self.registry
        )
        self.failures = Gauge(
            "tongxin_node_forward_failures",
            "Forwarding interruptions so far",
            registry=self.registry,
        )
        self.resent = Gauge(
            "tongxin_node_resent_total",
            "Envelopes published again by repair since the node started",
            registry=self.registry,
        )
        self.repairs = Gauge(
            "tongxin_node_repairs_total",
            "Repair incidents (a stretch re-sent, or a range the county asked for) since the node started",
            registry=self.registry,
        )
        self.requests = Gauge(
            "tongxin_node_resend_requests_total",
            "Re-send requests received from the county since the node started",
            registry=self.registry,
        )


def _error(status: int, errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": errors})


async def _json_body(request: Request) -> Any:
    return parse_json(await request.body(), "body")


def create_app(
    node: NodeService, forwarder: Forwarder | None = None, allowed_hosts: Iterable[str] = ()
) -> FastAPI:
    """The app for one open node; `forwarder` is the live forwarder when serving; `allowed_hosts`
    the names beside loopback it answers to (the bind host, `node serve --allowed-host`)."""
    metrics = Metrics()
    app = FastAPI(title=f"Tongxin branch node {node.node_id}", version="1", docs_url=None, redoc_url=None)
    app.add_middleware(Guard, allowed_hosts=tuple(allowed_hosts))
    serve_docs(app)
    handle_refusals(app)
    gate = mount_signin(app, Clerk(node.dir.path), Sessions(), Throttle())
    router = APIRouter(prefix="/api/v1", tags=["events"], dependencies=[Depends(gate)], responses=PROTECTED)

    @app.exception_handler(FieldError)
    async def field_error(_: Request, exc: FieldError) -> JSONResponse:
        metrics.refused.inc()
        status = 400 if exc.field == "body" else 422
        return _error(status, [e.to_dict() for e in exc.all()])  # every bad field at once

    @app.exception_handler(BatchError)
    async def batch_error(_: Request, exc: BatchError) -> JSONResponse:
        metrics.refused.inc()
        return _error(422, [{"index": i, **e.to_dict()} for i, error in exc.errors for e in error.all()])

    @router.post(
        "/events",
        status_code=201,
        summary="Record one event",
        responses=REFUSED,
        openapi_extra={"requestBody": {"content": {"application/json": {"example": EVENT_EXAMPLE}}}},
    )
    async def record_one(request: Request) -> dict[str, Any]:
        new = parse_item(await _json_body(request), node.keys)
        (seq,) = await _record(node, [new], metrics, forwarder)
        return {"seq": seq, "event_id": str(new.event_id)}

    @router.post(
        "/events/batch",
        status_code=201,
        summary="Record a batch of events, all or nothing",
        responses=REFUSED,
        openapi_extra={
            "requestBody": {"content": {"application/json": {"example": {"events": [EVENT_EXAMPLE]}}}}
        },
    )
    async def record_batch(request: Request) -> dict[str, Any]:
        data = await _json_body(request)
        items = data.get("events") if isinstance(data, dict) else None
        if not isinstance(items, list) or not items:
            raise FieldError("events", "required: a non-empty list of events")
        if len(items) > MAX_BATCH:
            raise FieldError("events", f"at most {MAX_BATCH} events in one batch, not {len(items)}")
        parsed, errors = [], []
        for i, item in enumerate(items):
            try:
                parsed.append(parse_item(item, node.keys))
            except FieldError as exc:
                errors.append((i, exc))
        if errors:
            raise BatchError(errors)
        seqs = await _record(node, parsed, metrics, forwarder)
        return {"seqs": seqs}

    @router.get("/events", summary="Signed envelopes after a seq, in seq order")
    def events_after(
        after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 100
    ) -> Response:
        rows = node.envelopes.after(after, limit)
        body = b'{"events":[' + b",".join(data for _, data in rows) + b"]}"
        return Response(body, media_type="application/json")

    @router.get(
        "/status", summary="Log; what the county confirmed, what is sent and waits; connectivity; a fork"
    )
    def status() -> dict[str, Any]:
        return _status(node, forwarder)

    mount_probes(app, node, forwarder)
    _serve_metrics(app, node, metrics, forwarder, gate)
    app.include_router(router)
    mount_outstation(app, node, lambda events: _record(node, events, metrics, forwarder), gate)
    return app


def _serve_metrics(
    app: FastAPI, node: NodeService, metrics: Metrics, forwarder: Forwarder | None, gate: Gate
) -> None:
    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=Response,
        dependencies=[Depends(gate)],
        responses={
            200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The Prometheus text format"},
            **PROTECTED,
        },
    )
    def prometheus() -> Response:
        st = node.status()
        metrics.last_seq.set(st.last_seq)
        metrics.forwarded.set(st.forwarded_seq)
        metrics.confirmed.set(st.confirmed_seq)
        metrics.unconfirmed.set(st.unconfirmed)
        metrics.waiting.set(st.waiting)
        metrics.backlog.set(st.backlog)
        metrics.forked.set(0 if fork_of(st, forwarder) is None else 1)
        if forwarder is not None:
            metrics.connected.set(1 if forwarder.state.connected else 0)
            metrics.failures.set(forwarder.state.failures)
            metrics.resent.set(forwarder.state.resent)
            metrics.repairs.set(forwarder.state.repairs)
            metrics.requests.set(forwarder.state.requests)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def _record(
    node: NodeService, events: list[Any], metrics: Metrics, forwarder: Forwarder | None
) -> list[int]:
    seqs = await run_in_threadpool(node.record, events)
    metrics.recorded.inc(len(seqs))
    if forwarder is not None:
        forwarder.wake.set()  # forward now rather than at the next idle poll
    return seqs


def _status(node: NodeService, forwarder: Forwarder | None) -> dict[str, Any]:
    """NodeStatus as JSON; when serving, the forwarder's connection, repair counters and whether it
    has stopped (`forked`, its reason) too."""
    out: dict[str, Any] = msgspec.to_builtins(node.status())
    if forwarder is not None:
        state = forwarder.state
        out["nats_connected"] = state.connected
        out["last_error"] = state.last_error
        out.update(resent=state.resent, repairs=state.repairs, requests=state.requests, forked=state.forked)
    return out
