"""`county serve --no-ingest` beside W ingest workers: its consumer connects and answers (the
responders, /ready consuming) but reads nothing and makes no durable; its stream metrics add up
the backlog of the workers' consumers, each filtered to its own nodes."""

from __future__ import annotations

import asyncio
import time

from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.durable import consumer_name, ensure_consumer
from services.county.ingest.partitions import Share
from services.county.ingest.processor import Ingestor
from services.county.ingest.stream_watch import stream_stats
from services.county.registry import enrol
from shared.signing import Signer
from shared.transport import connect
from shared.wire import STREAM, events_subject
from tests.county.helpers import count
from tests.county.test_ingest_workers import three_nodes
from tongxin.natsd import EmbeddedNats


async def test_the_api_without_ingest_reads_nothing_and_sums_the_workers_backlog(
    nats_server: EmbeddedNats, county_engine: Engine
) -> None:
    nodes = three_nodes()
    with county_engine.begin() as conn:
        for n in nodes:
            enrol(conn, n, Signer.generate().public_key_hex)
    nc = await connect(nats_server.url)
    try:
        js = nc.jetstream()
        for n in nodes:
            for _ in range(3):
                await js.publish(events_subject("jx", n), b"{}", stream=STREAM)
        shares = [Share(w, 2) for w in range(2)]
        assert [await ensure_consumer(js, county_engine, "jx", 30.0, s) for s in shares] == ["created"] * 2
        mine = [sum(s.owns(n) for n in nodes) for s in shares]
        for share, owned in zip(shares, mine, strict=True):
            info = await js.consumer_info(STREAM, share.consumer_name("jx"))
            assert info.num_pending == 3 * owned, "each worker's consumer holds its own nodes only"
        stats = await stream_stats(js, "jx", workers=True)
        assert (stats.pending, stats.ack_pending) == (9, 0)

        api = Consumer(Ingestor(county_engine, "jx"), nats_server.url, ingest=False)
        stop = asyncio.Event()
        running = asyncio.ensure_future(api.run(stop))
        deadline = time.monotonic() + 20
        while not api.state.consuming:
            assert time.monotonic() < deadline and not running.done(), api.state.last_error
            await asyncio.sleep(0.02)
        stop.set()
        await running
        assert count(county_engine, t.archive) == 0 and count(county_engine, t.quarantine) == 0
        try:
            await js.consumer_info(STREAM, consumer_name("jx"))
            made = True
        except NotFoundError:
            made = False
        assert not made, "no durable of the one ingest"
        assert (await stream_stats(js, "jx", workers=True)).pending == 9, "nothing was read"
    finally:
        await nc.close()
