"""While NATS is down the county warns once, then less and less often, and says when it is back
(not a warning every second)."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from sqlalchemy import Engine

from services.county.ingest import consumer as consumer_module
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from shared.transport import connect
from shared.warning_backoff import WarningBackoff


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_county_with_nats_down_for_four_seconds_warns_once(
    county_engine: Engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = Consumer(Ingestor(county_engine, "jx"), f"nats://127.0.0.1:{free_port()}", verify_workers=0)
    attempts = 0

    async def counted(url: str, **kw: Any) -> Any:  # the real connect, counted
        nonlocal attempts
        attempts += 1
        return await connect(url, **kw)

    monkeypatch.setattr(consumer_module, "connect", counted)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.sleep(4.0)  # the consumer retries every second
        stop.set()
        await asyncio.wait_for(task, 5)

    with caplog.at_level(logging.WARNING, logger="services.county.ingest.consumer"):
        asyncio.run(run())
    warnings = [r for r in caplog.records if "cannot reach NATS" in r.getMessage()]
    assert attempts >= 3 and consumer.state.last_error is not None
    assert len(warnings) == 1, [r.getMessage() for r in warnings]


def test_warnings_back_off_then_one_line_when_back(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = logging.getLogger("test.backoff")
    backoff = WarningBackoff(log, "NATS", clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.backoff"):
        for _ in range(60):  # a minute down, an attempt a second
            backoff.failed(ConnectionRefusedError("refused"))
            now[0] += 1.0
        lines = [r.getMessage() for r in caplog.records]
        # at 0 s, then 5, 15, 35 s: four lines for sixty attempts
        assert len(lines) == 4, lines
        assert "(1 failed attempt(s)" in lines[0] and "(5 failed attempt(s)" in lines[1]
        backoff.succeeded()
        assert caplog.records[-1].getMessage() == "NATS reachable again after 60 failed attempt(s)"
        backoff.failed(ConnectionRefusedError("refused"))
        assert "cannot reach NATS" in caplog.records[-1].getMessage(), "a new outage warns at once"
