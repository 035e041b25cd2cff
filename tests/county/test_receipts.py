"""County receipts over a real nats-server: the node keeps proof of what the county acknowledged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Engine, select

from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from shared import receipt
from shared.signing import Signer, Verifier
from tests.conftest import make_node_dir
from tests.county.helpers import enrol_nodes, record
from tests.samples import fund
from tongxin.natsd import EmbeddedNats

COUNTY_KEY = Signer.from_seed_hex("c0" * 32)


def forward(node: NodeService, url: str) -> Forwarder:
    fwd = Forwarder(node, url)
    asyncio.run(fwd.run(asyncio.Event(), once=True))
    return fwd


def test_the_node_keeps_a_verified_receipt_for_its_last_acknowledged_seq(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    node = NodeService(make_node_dir(tmp_path / "n", county_public_key=COUNTY_KEY.public_key_hex))
    record(node, [fund(i) for i in range(50)])
    enrol_nodes(county_engine, node)
    forward(node, nats_server.url)
    assert node.status().last_receipt is None
    asyncio.run(
        Consumer(Ingestor(county_engine, "jx", COUNTY_KEY), nats_server.url).run(asyncio.Event(), once=True)
    )
    with county_engine.connect() as conn:
        issued = (
            conn.execute(select(t.receipts.c.seq).where(t.receipts.c.node_id == "dongguan")).scalars().all()
        )
    assert max(issued) == 50
    forward(node, nats_server.url)
    last = node.status().last_receipt
    assert last is not None and (last.seq, last.verified, last.matches) == (50, True, True)
    (kept,) = [r for r in node.receipts.all() if r.seq == 50]
    assert kept.verify(Verifier(COUNTY_KEY.public_key))


def test_a_receipt_for_another_history_or_from_another_key_is_flagged(tmp_path: Path) -> None:
    node = NodeService(make_node_dir(tmp_path / "n", county_public_key=COUNTY_KEY.public_key_hex))
    record(node, [fund(i) for i in range(3)])
    honest = receipt.issue(
        COUNTY_KEY,
        county_id="jx",
        node_id="dongguan",
        seq=2,
        hash="ab" * 32,
        received_at="2026-03-01T00:00:00.000000Z",
        issued_at="2026-03-01T00:00:01.000000Z",
    )
    status = node.receipts.accept(honest, "dongguan")
    assert status is not None and (status.verified, status.matches) == (True, False), "not our hash at seq 2"
    forged = receipt.issue(
        Signer.generate(),
        county_id="jx",
        node_id="dongguan",
        seq=3,
        hash="cd" * 32,
        received_at="2026-03-01T00:00:00.000000Z",
        issued_at="2026-03-01T00:00:01.000000Z",
    )
    assert node.receipts.accept(forged, "dongguan") is None, "not signed by the county key: not kept"
    assert node.receipts.last() == status, "the forged one counts for nothing"
    fork = node.receipts.fork()
    assert fork is not None and fork.seq == 2, "the county's history differs at seq 2: a fork"
    assert node.receipts.accept(honest, "huadu") is None, "another node's receipt is not kept"
