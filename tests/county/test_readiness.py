"""`GET /ready` apart from `GET /health`: with a real nats-server stopped, the county is alive
(200) but not ready (503, naming nats and ingest); started again, it is ready again."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from services.county.api.app import create_app
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.serve import ingest_state
from tongxin.natsd import EmbeddedNats, free_port


@contextmanager
def consuming(consumer: Consumer) -> Iterator[None]:
    """The consumer's loop in a thread of its own, stopped on the way out."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(consumer.run(stop),))
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def answer_until(client: TestClient, path: str, wanted: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(path)
        if wanted(r):
            return r
        assert time.monotonic() < deadline, (path, r.status_code, r.json())
        time.sleep(0.05)


def test_ready_only_while_ingest_consumes_from_nats_while_health_stays_up(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    migrate(engine)
    server = EmbeddedNats(tmp_path / "nats", port=free_port(), open_access=True)
    server.start()
    consumer = Consumer(Ingestor(engine, "jx"), server.url, verify_workers=0)
    client = TestClient(create_app(engine, ingest=ingest_state(consumer)))  # anonymous: both are public
    try:
        with consuming(consumer):
            ready = answer_until(client, "/ready", lambda r: r.status_code == 200)
            assert ready.json() == {
                "status": "ready",
                "database": "ok",
                "nats": "connected",
                "ingest": "consuming",
                "not_ready": [],
            }
            server.stop()
            # the pull stops first, the connection a moment later: wait for both
            down = answer_until(client, "/ready", lambda r: len(r.json()["not_ready"]) == 2)
            assert down.status_code == 503 and down.json()["status"] == "not_ready"
            assert down.json()["not_ready"] == ["nats", "ingest"]
            assert down.json()["nats"] == "disconnected" and down.json()["database"] == "ok"
            health = client.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok", "alive all the same"
            server.start()
            answer_until(client, "/ready", lambda r: r.status_code == 200)
    finally:
        server.stop()
        engine.dispose()


def test_not_ready_without_an_ingest_or_a_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    migrate(engine)
    client = TestClient(create_app(engine))
    r = client.get("/ready")
    assert r.status_code == 503
    assert r.json()["not_ready"] == ["nats", "ingest"] and r.json()["ingest"] == "not run by this process"
    assert client.get("/health").status_code == 200
    engine.dispose()
    gone = create_engine(f"sqlite:///{tmp_path}")  # a directory: no database opens
    r = TestClient(create_app(gone)).get("/ready")
    assert r.status_code == 503 and r.json()["not_ready"][0] == "database"
    assert r.json()["database"].startswith("unreachable")
