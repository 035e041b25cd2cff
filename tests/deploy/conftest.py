"""What the county exports: the metric names of a real /metrics scrape of `county serve`'s app
over a real SQLite database, its ingest connected to a real nats-server (so that the stream's
gauges, exported only while connected, are there)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.county.api.app import create_app
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.serve import ingest_metrics
from tests.accounts import CountyClient
from tests.county.helpers import TEST_KEYS
from tongxin.natsd import EmbeddedNats, ensure_stream


def names(text: str) -> set[str]:
    """Every family and sample name of an exposition (a counter `x` is `x` and `x_total`)."""
    out: set[str] = set()
    for family in text_string_to_metric_families(text):
        out.add(family.name)
        out.update(s.name for s in family.samples)
    return out


@pytest.fixture(scope="session")
def exported(scrape: str) -> set[str]:
    return names(scrape)


@pytest.fixture(scope="session")
def families(scrape: str) -> set[str]:
    """The metric families the county exports (a counter once, by its name without `_total`)."""
    return {family.name for family in text_string_to_metric_families(scrape)}


@pytest.fixture(scope="session")
def scrape(tmp_path_factory: pytest.TempPathFactory) -> str:
    """/metrics as the county answers it."""
    tmp: Path = tmp_path_factory.mktemp("exported")
    engine = make_engine(f"sqlite:///{tmp / 'county.db'}")
    migrate(engine)
    with EmbeddedNats(tmp / "nats", open_access=True) as server:
        asyncio.run(ensure_stream(server.url))
        consumer = Consumer(Ingestor(engine, "jx"), server.url)
        registry = ingest_metrics(consumer)
        client = CountyClient(create_app(engine, metrics_registry=registry, personal=TEST_KEYS))

        async def scrape() -> str:
            stop = asyncio.Event()
            running = asyncio.ensure_future(consumer.run(stop))
            deadline = time.monotonic() + 15
            while "tongxin_stream_bytes" not in generate_latest(registry).decode():
                assert time.monotonic() < deadline and not running.done(), "the ingest never connected"
                await asyncio.sleep(0.05)
            try:
                return await asyncio.to_thread(lambda: client.get("/metrics").text)
            finally:
                stop.set()
                await running

        text = asyncio.run(scrape())
    engine.dispose()
    return text
