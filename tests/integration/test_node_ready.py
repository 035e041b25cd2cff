"""The node's `GET /ready`: ready while its log reads, with NATS connected or not (a node works
offline: services/branch_node/probes.py); not ready once the log does not read. Open, like
/health, to a caller without a session."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.branch_node.api import create_app
from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.service import NodeService
from tests.clerk import BASE_URL
from tests.conftest import make_node_dir
from tests.integration.test_forwarding import Running
from tests.streams import ensure_stream_sync
from tongxin.natsd import EmbeddedNats, free_port


def answer_until(client: TestClient, path: str, wanted: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(path)
        if wanted(r):
            return r
        assert time.monotonic() < deadline, (path, r.status_code, r.json())
        time.sleep(0.05)


def test_ready_with_nats_up_or_down_and_says_which(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), open_access=True)
    server.start()
    ensure_stream_sync(server.url)
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=server.url))
    try:
        forwarder = Forwarder(node, server.url, backoff=Backoff(base=0.05, cap=0.2))
        client = TestClient(create_app(node, forwarder), base_url=BASE_URL)  # no session: both are open
        assert client.get("/api/v1/status").status_code == 401, "the rest is the clerk's"
        with Running(forwarder):
            up = answer_until(client, "/ready", lambda r: r.json()["nats"] == "connected")
            assert up.status_code == 200
            assert up.json() == {"status": "ready", "log": "ok", "nats": "connected", "not_ready": []}
            server.stop()
            down = answer_until(client, "/ready", lambda r: r.json()["nats"] == "disconnected")
            assert down.status_code == 200 and down.json()["not_ready"] == [], "offline, still ready"
            assert client.get("/health").status_code == 200
    finally:
        node.close()
        server.stop()


def test_not_ready_once_the_log_does_not_read(tmp_path: Path) -> None:
    node = NodeService(make_node_dir(tmp_path / "node"))
    client = TestClient(create_app(node), base_url=BASE_URL)
    assert client.get("/ready").json()["nats"] == "not run by this process"
    node.log.close()  # its store gone: as a log that no longer opens
    r = client.get("/ready")
    assert r.status_code == 503, r.json()
    assert r.json()["status"] == "not_ready" and r.json()["not_ready"] == ["log"]
    assert r.json()["log"].startswith("unreadable (")
    node.close()
