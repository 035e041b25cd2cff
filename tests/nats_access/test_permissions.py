"""NATS access on a real nats-server (issue 14): nobody connects anonymously; a node publishes its
own events and reads its own receipt and requests, and nothing else; a revoked node is cut off
within seconds by a config reload, with no server restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.errors import Error as NatsError

from shared.nats_identity import NatsIdentity, new_seed, node_inbox, public_key
from shared.wire import (
    RECEIPTS_STREAM,
    STREAM,
    events_subject,
    keys_subject,
    receipts_subject,
    requests_subject,
)
from tongxin.natsd import EmbeddedNats, ensure_stream

pytestmark = pytest.mark.asyncio


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    nats_server = EmbeddedNats(tmp_path / "nats")
    nats_server.start()
    try:
        asyncio.run(ensure_stream(nats_server.url, identity=nats_server.identity("operator")))
        yield nats_server
    finally:
        nats_server.stop()


class Node:
    def __init__(self, server: EmbeddedNats, node_id: str) -> None:
        assert server.access is not None
        self.node_id = node_id
        self.seed = new_seed()
        server.allow_node("jx", node_id, public_key(self.seed))
        self.identity = NatsIdentity(self.seed, node_inbox(node_id))


async def connect(url: str, identity: NatsIdentity) -> tuple[Any, list[str]]:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(
        url, allow_reconnect=False, connect_timeout=2, error_cb=on_error, **identity.options()
    )
    return nc, errors


async def messages(server: EmbeddedNats, stream: str = STREAM) -> int:
    nc, _ = await connect(server.url, server.identity("operator"))
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def refused(action: Any, errors: list[str]) -> None:
    """`action` fails (no answer, or an error) and the server reported a permissions violation."""
    with pytest.raises((NatsError, TimeoutError, asyncio.TimeoutError)):
        await action
    deadline = time.monotonic() + 3
    while not any("permissions violation" in e.lower() for e in errors):
        assert time.monotonic() < deadline, errors
        await asyncio.sleep(0.05)


async def test_anonymous_and_unknown_keys_are_refused(server: EmbeddedNats) -> None:
    with pytest.raises(NatsError):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2)
    with pytest.raises(NatsError):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2, nkeys_seed_str=new_seed())


async def test_a_node_does_its_own_work_and_nothing_else(server: EmbeddedNats) -> None:
    a, b = Node(server, "dongguan"), Node(server, "huadu")
    county, _ = await connect(server.url, server.identity("county"))
    nc, errors = await connect(server.url, a.identity)
    try:
        js = nc.jetstream(timeout=1)
        # its own: publish an event, read its receipt, hear a request
        ack = await js.publish(events_subject("jx", a.node_id), b"{}", headers={"Nats-Msg-Id": "a1"})
        assert ack.stream == STREAM
        await county.jetstream().publish(receipts_subject("jx", a.node_id), b"receipt-a")
        await county.jetstream().publish(receipts_subject("jx", b.node_id), b"receipt-b")
        mine = await js.get_last_msg(RECEIPTS_STREAM, receipts_subject("jx", a.node_id), direct=True)
        assert mine.data == b"receipt-a"
        heard = await nc.subscribe(requests_subject("jx", a.node_id))
        await nc.flush()  # the server holds the interest before the county speaks
        await county.publish(requests_subject("jx", a.node_id), b"resend 1-2")
        # a message that must arrive: waited for up to 10 s (a loaded CI machine once took over 2 s)
        assert (await heard.next_msg(timeout=10)).data == b"resend 1-2"
        assert errors == []

        # not as another node
        before = await messages(server)
        await refused(js.publish(events_subject("jx", b.node_id), b"{}"), errors)
        assert await messages(server) == before
        # nor hand the county keys in another node's name (its own keys subject only)
        errors.clear()
        await refused(nc.request(keys_subject("jx", b.node_id), b"{}", timeout=1), errors)
        # not another node's receipt, nor the stream API
        await refused(
            js.get_last_msg(RECEIPTS_STREAM, receipts_subject("jx", b.node_id), direct=True), errors
        )
        await refused(js.get_last_msg(RECEIPTS_STREAM, receipts_subject("jx", a.node_id)), errors)
        # not the events stream: no consumer, no plain subscription, no stream info
        await refused(js.pull_subscribe(events_subject("jx", "*"), "spy", stream=STREAM), errors)
        await refused(js.stream_info(STREAM), errors)
        errors.clear()
        spy = await nc.subscribe(events_subject("jx", "*"))
        await refused(spy.next_msg(timeout=1), errors)
        # not another node's requests or inbox
        errors.clear()
        other = await nc.subscribe(f"{node_inbox(b.node_id)}.>")
        await refused(other.next_msg(timeout=1), errors)
        # no purge, no delete, no consumer deletion
        await refused(js.purge_stream(STREAM), errors)
        await refused(js.delete_stream(STREAM), errors)
        await refused(js.delete_consumer(STREAM, "county"), errors)
        assert await messages(server) == before
    finally:
        await nc.close()
        await county.close()


async def test_a_revoked_node_is_cut_off_without_a_restart(server: EmbeddedNats) -> None:
    assert server.access is not None and server.proc is not None
    pid = server.proc.pid
    node = Node(server, "dongguan")
    nc, _ = await connect(server.url, node.identity)
    await nc.jetstream(timeout=1).publish(events_subject("jx", node.node_id), b"{}")
    server.revoke_node(node.node_id)
    deadline = time.monotonic() + 5
    while nc.is_connected:
        assert time.monotonic() < deadline, "the revoked node is still connected"
        await asyncio.sleep(0.05)
    with pytest.raises(NatsError):
        await nats.connect(server.url, allow_reconnect=False, connect_timeout=2, **node.identity.options())
    assert server.proc.pid == pid and server.proc.poll() is None
    await nc.close()
