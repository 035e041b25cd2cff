"""`county serve`: the ingest loop and the query API in one process and one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Engine

from services.county.accounts.store import Accounts
from services.county.api.app import create_app
from services.county.api.probes import IngestState
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.ingest.stream_watch import StreamCollector, StreamWatch
from services.county.keys import load_signing
from services.county.personal.index import index_members
from services.county.personal.notices import send_notices
from services.county.personal.responder import answer_keys
from services.county.personal.store import KeyStore
from services.county.reference.publish import publish_references
from services.county.settings import CountySettings

log = logging.getLogger("tongxin.county")


def ingest_metrics(consumer: Consumer) -> CollectorRegistry:
    """The ingest loop's metrics: messages ingested, the NATS connection, and the events stream's
    size, limits and backlog as the consumer's connection sees them (`ingest/stream_watch.py`)."""
    registry = CollectorRegistry()
    ingested = Counter("tongxin_county_ingested", "Messages ingested (any outcome)", registry=registry)
    consumer.on_batch.append(ingested.inc)
    Gauge("tongxin_county_nats_connected", "1 while connected to NATS", registry=registry).set_function(
        lambda: 1.0 if consumer.state.connected else 0.0
    )
    watch = StreamWatch(consumer.ingestor.county_id, workers=not consumer.ingest)
    consumer.responders.append(watch.attach)
    registry.register(StreamCollector(watch))
    return registry


def ingest_state(consumer: Consumer) -> Callable[[], IngestState]:
    """What /ready asks of the ingest loop."""
    return lambda: IngestState(connected=consumer.state.connected, consuming=consumer.state.consuming)


async def index_loop(engine: Engine, store: KeyStore, stop: asyncio.Event, every: float = 5.0) -> None:
    """Index the members whose sealed registration arrived after their key (`personal/index.py`)."""

    def sweep() -> None:
        with engine.begin() as conn:
            index_members(conn, store)

    while not stop.is_set():
        try:
            await asyncio.to_thread(sweep)
        except Exception as exc:  # the next sweep tries again
            log.warning("identity index sweep failed", extra={"error": repr(exc)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def serve(
    engine: Engine, settings: CountySettings, host: str, port: int, *, ingest: bool = True
) -> None:
    """The API; with `ingest`, the county's one ingest too (else only the responders, beside
    separate `county ingest --workers W` processes)."""
    stop = asyncio.Event()
    signing = load_signing(settings.county_key, engine)
    county_key = signing.signer
    ingestor = Ingestor(
        engine, settings.county_id, signing, max_clock_ahead=timedelta(seconds=settings.max_clock_ahead)
    )
    consumer = Consumer(
        ingestor,
        settings.nats_url,
        repair_grace=settings.repair_grace,
        identity=settings.nats_identity(),
        ingest=ingest,
    )
    store = answer_keys(consumer, engine, settings.county_id, signing, settings.personal_key_path())
    send_notices(consumer, engine, settings.county_id, signing)
    publish_references(consumer, engine, settings.county_id, signing, store)
    started = time.time()

    def health() -> dict[str, Any]:
        return {
            "nats_connected": consumer.state.connected,
            "ingested": consumer.state.messages,
            "uptime_s": round(time.time() - started),
        }

    app = create_app(
        engine,
        health=health,
        ingest=ingest_state(consumer),
        metrics_registry=ingest_metrics(consumer),
        personal=store,
    )
    app.state.county_id = settings.county_id  # for the audit endpoints (receipts)
    app.state.county_key = county_key
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving", extra={"county_id": settings.county_id, "http": f"http://{host}:{port}"})
    if not Accounts(engine).list():
        log.warning(
            "no accounts yet: nobody can sign in to the dashboard or the API; add one with "
            "`tongxin county user add NAME --role analyst` (roles: analyst, township_officer, "
            "auditor, operator)"
        )
    ingesting = asyncio.create_task(consumer.run(stop))
    http = asyncio.create_task(server.serve())
    indexing = asyncio.create_task(index_loop(engine, store, stop))
    await stop.wait()
    server.should_exit = True
    await asyncio.gather(http, ingesting, indexing)
    log.info("stopped", extra={"county_id": settings.county_id})
