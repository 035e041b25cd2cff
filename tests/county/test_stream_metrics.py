"""The ingest's view of JetStream on a real nats-server: the events stream's size against its
limits, and the county consumer's backlog (`services/county/ingest/stream_watch.py`), as the
registry `county serve` puts on /metrics exports them."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from services.county.ingest.consumer import Consumer
from services.county.ingest.durable import consumer_name, ensure_consumer
from services.county.ingest.processor import Ingestor
from services.county.ingest.stream_watch import stream_stats
from services.county.serve import ingest_metrics
from shared.transport import connect
from shared.wire import STREAM, STREAM_MAX_BYTES, events_subject
from tongxin.natsd import EmbeddedNats


def samples(text: bytes) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(text.decode()) for s in f.samples}


async def test_stream_size_limits_and_the_consumers_backlog_are_read_from_jetstream(
    nats_server: EmbeddedNats, county_engine: Engine
) -> None:
    nc = await connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_consumer(js, county_engine, "jx", 30.0)
        for i in range(5):
            await js.publish(events_subject("jx", "dongguan"), b"x" * (100 + i), stream=STREAM)
        await js.publish(events_subject("other", "n1"), b"y" * 100, stream=STREAM)  # not the county's
        stats = await stream_stats(js, "jx")
        assert (stats.messages, stats.pending, stats.ack_pending) == (6, 5, 0)
        assert stats.bytes > 5 * 100 and stats.max_bytes == STREAM_MAX_BYTES and stats.max_messages == -1

        sub = await js.pull_subscribe_bind(consumer_name("jx"), STREAM)
        fetched = await sub.fetch(2, timeout=5)
        stats = await stream_stats(js, "jx")
        assert (stats.pending, stats.ack_pending) == (3, 2), "delivered, not acknowledged"
        for m in fetched:
            await m.ack_sync()
        stats = await stream_stats(js, "jx")
        assert (stats.messages, stats.pending, stats.ack_pending) == (6, 3, 0), "acks keep the messages"
    finally:
        await nc.close()


async def test_the_ingest_registry_exports_them_while_connected_and_never_stale(
    nats_server: EmbeddedNats, county_engine: Engine
) -> None:
    consumer = Consumer(Ingestor(county_engine, "jx"), nats_server.url)
    registry = ingest_metrics(consumer)
    assert "tongxin_stream_bytes" not in samples(generate_latest(registry)), "nothing before a connection"
    stop = asyncio.Event()
    running = asyncio.ensure_future(consumer.run(stop))
    deadline = time.monotonic() + 15
    while "tongxin_stream_bytes" not in (seen := samples(generate_latest(registry))):
        # the first look is taken as the consumer connects
        assert time.monotonic() < deadline and not running.done(), "the ingest never looked at its stream"
        await asyncio.sleep(0.05)
    assert seen["tongxin_stream_max_bytes"] == STREAM_MAX_BYTES and seen["tongxin_stream_max_messages"] == -1
    assert seen["tongxin_stream_messages"] == 0 and seen["tongxin_county_ingest_pending"] == 0
    assert seen["tongxin_county_nats_connected"] == 1
    stop.set()
    await running
    after = samples(generate_latest(registry))
    assert "tongxin_stream_bytes" not in after and "tongxin_county_ingest_pending" not in after
    assert after["tongxin_county_nats_connected"] == 0
