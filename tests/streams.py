"""Reading back what reached JetStream: every message of the TONGXIN stream, in stream order."""

from __future__ import annotations

import asyncio

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared import envelope
from shared.chain import verify_chain
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.signing import Verifier
from shared.transport import connect
from shared.wire import STREAM, msg_id
from tongxin.natsd import ensure_stream


async def _read(url: str, identity: NatsIdentity) -> list[tuple[str, bytes]]:
    nc = await connect(url, identity=identity)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(STREAM)).state.messages
        sub = await js.pull_subscribe(
            "tongxin.*.events.*",
            stream=STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
        )
        out: list[tuple[str, bytes]] = []
        while len(out) < total:
            for msg in await sub.fetch(min(1000, total - len(out)), timeout=5):
                out.append((msg.headers["Nats-Msg-Id"], msg.data))
        await sub.unsubscribe()
        return out
    finally:
        await nc.close()


def read_stream(url: str, identity: NatsIdentity = ANONYMOUS) -> list[tuple[str, bytes]]:
    """(Nats-Msg-Id, data) of every message in the stream (read as `identity`: the operator's on a
    server with users)."""
    return asyncio.run(_read(url, identity))


def ensure_stream_sync(url: str, identity: NatsIdentity = ANONYMOUS) -> None:
    asyncio.run(ensure_stream(url, identity=identity))


def stream_count(url: str, identity: NatsIdentity = ANONYMOUS) -> int:
    async def count() -> int:
        nc = await connect(url, identity=identity)
        try:
            return int((await nc.jetstream().stream_info(STREAM)).state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def assert_exactly_once(
    messages: list[tuple[str, bytes]], node_id: str, total: int, public_key: bytes
) -> None:
    """The stream holds seq 1..total of the node once each, and in seq order they form a valid
    signed chain. (The stream's own order may differ where a publish failed and was retried
    after later ones had landed; the county holds such envelopes until the gap fills.)"""
    ids = [mid for mid, _ in messages]
    assert len(ids) == len(set(ids)) == total, "no envelope twice"
    by_seq = sorted(messages, key=lambda m: int(m[0].split(":")[1]))
    envs = [envelope.decode(data) for _, data in by_seq]
    assert [e.seq for e in envs] == list(range(1, total + 1))
    assert [mid for mid, _ in by_seq] == [msg_id(node_id, e.seq, e.hash) for e in envs], (
        "Msg-Id commits to content"
    )
    verifier = Verifier(public_key)
    assert verify_chain(envs, lambda _n, k: verifier if k == verifier.key_id else None) == []
