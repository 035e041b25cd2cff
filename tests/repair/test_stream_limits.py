"""The events stream protects itself and says so: delete and purge denied, limits set and checked
at start, and a full stream refuses publishes loudly while the node keeps its backlog."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nats.js.api import DiscardPolicy

from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.service import NodeService
from shared.streams import ensure_streams_on
from shared.transport import connect
from shared.wire import MAX_ENVELOPE_BYTES, STREAM, STREAM_MAX_AGE_S, STREAM_MAX_BYTES
from tests.conftest import make_node_dir
from tests.county.helpers import record
from tests.integration.test_forwarding import Running, wait_until
from tests.samples import fund
from tongxin.natsd import EmbeddedNats


async def _js_call(url: str, what: str) -> str:
    nc = await connect(url)
    js = nc.jetstream()
    try:
        if what == "info":
            c = (await js.stream_info(STREAM)).config
            return f"{c.deny_delete} {c.deny_purge} {c.discard} {c.max_bytes} {c.max_age} {c.max_msg_size}"
        if what == "purge":
            await js.purge_stream(STREAM)
        elif what == "delete":
            await js.publish("tongxin.jx.events.dongguan", b"one")
            await js.delete_msg(STREAM, 1)
        elif what == "big":
            await js.publish("tongxin.jx.events.dongguan", b"x" * (MAX_ENVELOPE_BYTES + 1))
        return "done"
    except Exception as exc:
        return f"refused: {type(exc).__name__}"
    finally:
        await nc.close()


def test_the_stream_denies_delete_and_purge_and_runs_with_its_limits(nats_server: EmbeddedNats) -> None:
    """Deleting single messages and purging are refused; deleting the whole stream is a matter of
    who may use that part of the JetStream API (NATS permissions), not of the stream's settings."""
    url = nats_server.url
    assert asyncio.run(_js_call(url, "info")) == (
        f"True True {DiscardPolicy.NEW.value} {STREAM_MAX_BYTES} {STREAM_MAX_AGE_S} {MAX_ENVELOPE_BYTES}"
    )
    for what in ("purge", "delete", "big"):
        assert asyncio.run(_js_call(url, what)).startswith("refused"), what


async def _limit(url: str, max_bytes: int) -> None:
    nc = await connect(url)
    try:
        await ensure_streams_on(nc.jetstream(), max_bytes=max_bytes)
    finally:
        await nc.close()


def test_a_full_stream_refuses_publishes_loudly_and_the_node_keeps_its_backlog(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    url = nats_server.url
    asyncio.run(_limit(url, 64 * 1024))
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=url))
    try:
        record(node, [fund(i) for i in range(400)])
        fwd = Forwarder(node, url, backoff=Backoff(base=0.05, cap=0.2))
        with Running(fwd):
            wait_until(lambda: fwd.state.failures >= 2, what="publishes refused")
            st = node.status()
            assert 0 < st.forwarded_seq < 400 and st.waiting == 400 - st.forwarded_seq, "the rest waits"
            assert fwd.state.last_error is not None and "forward" in fwd.state.last_error
            asyncio.run(_limit(url, STREAM_MAX_BYTES))  # the operator raises the limit
            wait_until(lambda: node.status().waiting == 0, what="the backlog sent")
    finally:
        node.close()


def test_the_county_refuses_to_run_on_a_stream_without_its_protections() -> None:
    from nats.js.api import StreamConfig

    from shared import streams

    wanted = streams.stream_config()
    got = StreamConfig(name=STREAM, deny_delete=False, deny_purge=True, discard=DiscardPolicy.NEW)
    with pytest.raises(RuntimeError, match="deny_delete"):
        streams._check(wanted, got)
