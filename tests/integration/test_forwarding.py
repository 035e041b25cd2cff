"""Store-and-forward against a real nats-server: offline backlogs, outages, redelivery."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from tests.conftest import make_node_dir
from tests.samples import mixed
from tests.streams import assert_exactly_once, ensure_stream_sync, read_stream, stream_count
from tongxin.natsd import EmbeddedNats, free_port


def record(node: NodeService, n: int, batch: int = 2000, start: int = 0) -> None:
    items = [parse_item(item, node.keys) for item in mixed(n, start)]
    for i in range(0, n, batch):
        node.record(items[i : i + batch])


class Running:
    """A forwarder running in a thread with its own event loop, stoppable from the test."""

    def __init__(self, forwarder: Forwarder, idle_poll: float = 0.05) -> None:
        self.forwarder = forwarder
        self.idle_poll = idle_poll
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        await self.forwarder.run(self.stop, idle_poll=self.idle_poll)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.loop.call_soon_threadsafe(self.forwarder.wake.set)  # as `node serve` stops it
        self.thread.join(30)
        self.loop.close()


def wait_until(predicate: object, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_ten_thousand_events_recorded_offline_all_arrive_once(tmp_path: Path) -> None:
    """With NATS access on, as deployed: the node forwards as itself, with a node's permissions."""
    port = free_port()
    server = EmbeddedNats(tmp_path / "nats", port=port)
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=server.url))
    try:
        record(node, 10_000)
        fwd = Forwarder(node, server.url, backoff=Backoff(base=0.05, cap=0.2))
        with Running(fwd):
            wait_until(lambda: fwd.state.failures >= 3, what="failed attempts while NATS is down")
            assert node.status().forwarded_seq == 0
            server.start()
            assert server.access is not None
            server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())
            wait_until(lambda: fwd.state.failures >= 6, what="attempts while there are no streams")
            assert node.status().forwarded_seq == 0
            operator = server.identity("operator")
            ensure_stream_sync(server.url, operator)
            wait_until(lambda: node.status().waiting == 0, what="backlog to drain")
        assert stream_count(server.url, operator) == 10_000
        messages = read_stream(server.url, operator)
        assert_exactly_once(messages, "dongguan", 10_000, node.first_key.public_key)
        # the forwarder waited for the stream instead of publishing into nothing: nothing overtook
        assert [int(mid.split(":")[1]) for mid, _ in messages] == list(range(1, 10_001))
    finally:
        node.close()
        server.stop()


class CountingRounds(Forwarder):
    rounds = 0

    def _first_rows(self) -> tuple[int, int, list[tuple[int, bytes]]]:
        self.rounds += 1
        return super()._first_rows()


def test_events_recorded_one_at_a_time_go_in_one_round_each_and_the_cursor_follows(
    nats_server: EmbeddedNats, node: NodeService
) -> None:
    """As `node serve` forwards a clerk's events: each record wakes the forwarder, which sends
    it in one round (not a second one to find nothing), and saves its cursor within a second of
    going idle (not after every round), and at stop."""
    *items, last = [parse_item(item, node.keys) for item in mixed(41)]
    fwd = CountingRounds(node, nats_server.url)
    with Running(fwd, idle_poll=30) as running:
        for item in items:
            node.record([item])
            running.loop.call_soon_threadsafe(fwd.wake.set)
            time.sleep(0.03)
        wait_until(lambda: node.status().waiting == 0, timeout=5, what="the cursor saved once idle")
        assert fwd.rounds <= len(items) + 3, fwd.rounds  # + the first, + a cursor save or two
        node.record([last])
        running.loop.call_soon_threadsafe(fwd.wake.set)
        wait_until(lambda: fwd.state.acked == len(items) + 1, timeout=5, what="the last publish")
    assert node.status().forwarded_seq == len(items) + 1  # saved at stop
    assert stream_count(nats_server.url) == len(items) + 1


def test_nats_restarted_mid_forwarding_node_catches_up(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats")  # with its users: they outlive a restart
    server.start()
    operator = server.identity("operator")
    ensure_stream_sync(server.url, operator)
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=server.url))
    assert server.access is not None
    server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())
    try:
        record(node, 30_000)
        fwd = Forwarder(
            node, server.url, cursor_every=500, ack_timeout=2, backoff=Backoff(base=0.05, cap=0.3)
        )
        with Running(fwd):
            wait_until(lambda: node.status().forwarded_seq >= 2_000, what="forwarding to start")
            server.stop()
            stopped_at = node.status().forwarded_seq
            assert stopped_at < 30_000, "the outage must fall in the middle of forwarding"
            wait_until(lambda: fwd.state.failures >= 1, what="the forwarder to notice the outage")
            server.start()
            wait_until(lambda: node.status().waiting == 0, what="catching up after restart")
        messages = read_stream(server.url, operator)
        assert_exactly_once(messages, "dongguan", 30_000, node.first_key.public_key)
    finally:
        node.close()
        server.stop()


def test_republishing_after_a_lost_cursor_is_deduplicated(
    nats_server: EmbeddedNats, node: NodeService
) -> None:
    """A crash after publishing but before saving the cursor: the repeats are dropped by Msg-Id."""
    record(node, 3_000)
    asyncio.run(Forwarder(node, nats_server.url).run(asyncio.Event(), once=True))
    assert stream_count(nats_server.url) == 3_000
    node.envelopes.conn.execute("UPDATE forwarding SET forwarded_seq = 1000")
    record(node, 300, start=3_000)
    fwd = Forwarder(node, nats_server.url)
    asyncio.run(fwd.run(asyncio.Event(), once=True))
    assert fwd.state.published == 2_300, "seq 1001..3300 were published again"
    assert_exactly_once(read_stream(nats_server.url), "dongguan", 3_300, node.first_key.public_key)
    assert node.status().forwarded_seq == 3_300
