"""The county's own JetStream pull loop against a real nats-server: every message once, batches and
buffer within bounds, redelivery of what was never acked, and a consumer that outlives a restart
of the server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine

from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.durable import consumer_config, consumer_name
from services.county.ingest.incoming import Outcome
from services.county.ingest.processor import Ingestor
from services.county.ingest.pull import Puller
from shared.transport import connect
from shared.wire import STREAM
from tests.county.helpers import count, enrol_nodes, open_node, record
from tests.county.test_ingest_nats import forward_all
from tests.samples import fund, registration
from tongxin.natsd import EmbeddedNats


async def _publish(url: str, n: int) -> None:
    nc = await connect(url)
    js = nc.jetstream()
    for i in range(n):
        await js.publish_async(f"tongxin.jx.events.n{i % 3}", str(i).encode())
    await js.publish_async_completed()
    await nc.close()


async def _pull_all(url: str, n: int, *, batch: int, ack: bool) -> tuple[list[int], int, int]:
    """Takes until n messages came (acking them if `ack`); returns their stream seqs, the largest
    take and the largest buffer seen."""
    nc = await connect(url)
    js = nc.jetstream()
    await js.add_consumer(STREAM, config=consumer_config("jx", ack_wait=1.0))
    puller = Puller(nc, STREAM, consumer_name("jx"), batch=batch)
    await puller.start()
    seqs: list[int] = []
    largest_take = largest_buffer = 0
    try:
        deadline = time.monotonic() + 60
        while len(seqs) < n and time.monotonic() < deadline:
            largest_buffer = max(largest_buffer, puller.buffered)
            msgs = await puller.take(timeout=0.5)
            largest_take = max(largest_take, len(msgs))
            seqs += [m.metadata.sequence.stream for m in msgs]
            if ack:
                for m in msgs:
                    await m.ack()
        await nc.flush()
    finally:
        await puller.stop()
        await nc.close()
    return seqs, largest_take, largest_buffer


def test_every_message_once_in_bounded_batches(nats_server: EmbeddedNats) -> None:
    asyncio.run(_publish(nats_server.url, 2_500))
    seqs, largest_take, largest_buffer = asyncio.run(_pull_all(nats_server.url, 2_500, batch=300, ack=True))
    assert sorted(seqs) == list(range(1, 2_501))
    assert largest_take <= 300
    assert largest_buffer <= 300 * 3, "never more delivered and untaken than the puller has room for"

    async def pending() -> tuple[int, int]:
        nc = await connect(nats_server.url)
        info = await nc.jetstream().consumer_info(STREAM, consumer_name("jx"))
        await nc.close()
        return info.num_pending, info.num_ack_pending

    assert asyncio.run(pending()) == (0, 0)


def test_what_is_never_acked_comes_again(nats_server: EmbeddedNats) -> None:
    asyncio.run(_publish(nats_server.url, 50))
    # no acks: after the 1 s ack wait the same 50 are delivered once more
    seqs, _, _ = asyncio.run(_pull_all(nats_server.url, 100, batch=20, ack=False))
    assert sorted(seqs[:100]) == sorted(list(range(1, 51)) * 2)


def test_the_consumer_goes_on_after_the_server_restarts(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    record(node, [registration(i, outstation="dongguan") for i in range(200)])
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    consumer = Consumer(Ingestor(county_engine, "jx"), nats_server.url, batch=100)
    with running(consumer):
        _wait(lambda: count(county_engine, t.archive) == 200, "the first 200")
        nats_server.stop()  # the open pull requests die with the connection
        _wait(lambda: not consumer.state.connected, "the consumer to notice")
        nats_server.start()
        record(node, [fund(i, org="dongguan") for i in range(150)])
        forward_all(nats_server.url, node)
        _wait(lambda: count(county_engine, t.archive) == 350, "the 150 recorded while it was down")


@contextlib.contextmanager
def running(consumer: Consumer) -> Iterator[None]:
    """`consumer.run` on its own event loop in a thread; stopped, and its thread gone, after."""
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(consumer.run(stop),), daemon=True)
    runner.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        runner.join(30)
        loop.close()
    assert not runner.is_alive()


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_consumer_comes_back_after_its_durable_is_deleted(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    """The server refuses the open pull requests; the consumer reconnects, makes its durable
    again — after the stream seq its archive holds, not from the stream's start — and goes on."""
    node = open_node(tmp_path, "dongguan")
    record(node, [registration(i, outstation="dongguan") for i in range(100)])
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    consumer = Consumer(Ingestor(county_engine, "jx"), nats_server.url, batch=50)
    with running(consumer):
        _wait(lambda: count(county_engine, t.archive) == 100, "the first 100")

        async def delete() -> None:
            nc = await connect(nats_server.url)
            await nc.jetstream().delete_consumer(STREAM, consumer_name("jx"))
            await nc.close()

        asyncio.run(delete())
        record(node, [fund(i, org="dongguan") for i in range(80)])
        forward_all(nats_server.url, node)
        _wait(lambda: count(county_engine, t.archive) == 180, "the 80 recorded after")
        assert consumer.ingestor.counts[Outcome.DUPLICATE] == 0, "the first 100 were not read again"
        assert consumer.state.last_error is not None and "refused" in consumer.state.last_error
