"""Shared by the key lifecycle tests: a county that signs receipts, a node whose data dir leaks,
and publishing over a real nats-server."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy import Engine, select

from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.audit.replay import Bounds, build
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.keys import CountySigning
from services.county.projections.digest import digest
from shared import envelope, receipt
from shared.receipt import Receipt
from shared.signing import Signer
from shared.transport import connect
from shared.wire import RECEIPTS_STREAM, events_subject, msg_id, receipts_subject
from tests.conftest import make_node_dir


def county_node(root: Path, node_id: str, county_key: str | None) -> NodeService:
    return NodeService(make_node_dir(root / node_id, node_id=node_id, county_public_key=county_key))


def leak(node: NodeService, root: Path) -> NodeService:
    """A thief's copy of the node's data dir as it is now: its key, its NATS seed, its log."""
    shutil.copytree(node.dir.path, root / "stolen")
    return NodeService(root / "stolen")


def forward(url: str, *nodes: NodeService) -> None:
    for node in nodes:
        asyncio.run(Forwarder(node, url).run(asyncio.Event(), once=True))


def ingest(engine: Engine, url: str, signing: Signer | CountySigning) -> Consumer:
    consumer = Consumer(Ingestor(engine, "jx", signing), url)
    asyncio.run(consumer.run(asyncio.Event(), once=True))
    return consumer


async def _publish(url: str, data: bytes) -> None:
    env = envelope.decode(data)
    nc = await connect(url)
    try:
        headers = {"Nats-Msg-Id": msg_id(env.node_id, env.seq, env.hash)}
        await nc.jetstream().publish(events_subject("jx", env.node_id), data, headers=headers)
    finally:
        await nc.close()


def publish(url: str, *datas: bytes) -> None:
    for data in datas:
        asyncio.run(_publish(url, data))


async def _publish_receipt(url: str, r: Receipt) -> None:
    nc = await connect(url)
    try:
        await nc.jetstream().publish(
            receipts_subject("jx", r.node_id), receipt.encode(r), stream=RECEIPTS_STREAM
        )
    finally:
        await nc.close()


def publish_receipt(url: str, r: Receipt) -> None:
    asyncio.run(_publish_receipt(url, r))


def quarantined(engine: Engine) -> list[tuple[int | None, str, str]]:
    q = t.quarantine.c
    with engine.connect() as conn:
        rows = conn.execute(select(q.seq, q.reason, q.detail).where(q.resolved_at.is_(None)).order_by(q.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def live_and_replayed(engine: Engine) -> tuple[str, str]:
    """The live projection digest, and the digest of a full replay of the archive."""
    with engine.connect() as conn:
        live = digest(conn)
    scratch = build(engine, Bounds())
    try:
        return live, scratch.result.digest
    finally:
        scratch.close()
