"""The node's `GET /health` (liveness: up, and not forked) and `GET /ready` (readiness: its log
reads), both open like the page itself and without data.

NATS is reported by /ready but does not make the node not ready: a node's work — clerks
recording events, durably, in its own log — goes on offline, and what it records waits in the
log and is forwarded when the county's NATS is back (the backlog shows in `node status`). A load
balancer or supervisor that took a node out of service while the network is down would stop the
very recording a node exists to keep up."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService, NodeStatus


def fork_of(st: NodeStatus, forwarder: Forwarder | None) -> dict[str, Any] | None:
    """Why forwarding is stopped, or None: the log and the newest receipt disagree (`st.fork`), or
    the forwarder itself has stopped (seq None when only it knows why)."""
    if st.fork is not None:
        fork: dict[str, Any] = msgspec.to_builtins(st.fork)
        return fork
    if forwarder is not None and forwarder.state.forked is not None:
        return {"seq": None, "reason": forwarder.state.forked}
    return None


def mount_probes(app: FastAPI, node: NodeService, forwarder: Forwarder | None) -> None:
    @app.get(
        "/health",
        tags=["ops"],
        summary="Liveness: the node answers and forwarding is not stopped by a fork",
        responses={503: {"description": 'Forwarding stopped: {"status": "forked", "fork": {seq, reason}}'}},
    )
    def health() -> Response:
        fork = fork_of(node.status(), forwarder)
        if fork is not None:
            return JSONResponse(status_code=503, content={"status": "forked", "fork": fork})
        return JSONResponse({"status": "ok"})

    @app.get(
        "/ready",
        tags=["ops"],
        summary="Readiness: the log reads; NATS connected or not is reported, not required",
        responses={
            200: {
                "description": '{"status": "ready", "log": "ok", "nats": "connected" | "disconnected" | …}'
            },
            503: {"description": 'The log does not read: {"status": "not_ready", "not_ready": ["log"], …}'},
        },
    )
    def ready() -> Response:
        try:
            node.log.last_seq()
            log = "ok"
        except Exception as exc:  # whatever the log's store raises, the answer is "not ready"
            log = f"unreadable ({type(exc).__name__})"
        nats = (
            "not run by this process"
            if forwarder is None
            else ("connected" if forwarder.state.connected else "disconnected")
        )
        not_ready = [] if log == "ok" else ["log"]
        body = {
            "status": "not_ready" if not_ready else "ready",
            "log": log,
            "nats": nats,
            "not_ready": not_ready,
        }
        return JSONResponse(status_code=503 if not_ready else 200, content=body)
