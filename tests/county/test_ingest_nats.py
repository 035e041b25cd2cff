"""Ingest through a real nats-server: several nodes, kill -9 of the county, redelivery, raw publishes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from services.branch_node.forwarder import Forwarder
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.processor import Ingestor
from services.county.projections import figures, roster
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from shared.signing import VerifyPool
from shared.transport import connect
from tests.county.helpers import count, enrol_nodes, open_node, record
from tests.e2e.conftest import TONGXIN
from tests.samples import fund, mixed, registration
from tongxin.natsd import EmbeddedNats


def forward_all(url: str, *nodes: object) -> None:
    for node in nodes:
        asyncio.run(Forwarder(node, url).run(asyncio.Event(), once=True))  # type: ignore[arg-type]


def ingest_once(engine: Engine, url: str, **kw: object) -> Consumer:
    consumer = Consumer(Ingestor(engine, "jx"), url, **kw)  # type: ignore[arg-type]
    asyncio.run(consumer.run(asyncio.Event(), once=True))
    return consumer


def digests(engine: Engine) -> tuple[str, str]:
    with engine.connect() as conn:
        live = digest(conn)
    with engine.begin() as conn:
        rebuild(conn)
        return live, digest(conn)


def test_three_nodes_forward_and_the_county_ingests_everything_once(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    nodes = [open_node(tmp_path, n) for n in ("dongguan", "huadu", "hainan")]
    for k, node in enumerate(nodes):
        record(node, [registration(1000 * k + i, outstation=node.node_id) for i in range(50)])
        record(node, [fund(i, org=node.node_id) for i in range(30)])
    enrol_nodes(county_engine, *nodes)
    forward_all(nats_server.url, *nodes)
    consumer = ingest_once(county_engine, nats_server.url)
    assert consumer.ingestor.counts == {Outcome.ARCHIVED: 240}
    assert count(county_engine, t.archive) == 240 and count(county_engine, roster.members) == 150
    with county_engine.connect() as conn:
        by_outstation = dict(
            conn.execute(
                select(roster.members.c.outstation, func.count()).group_by(roster.members.c.outstation)
            ).all()
        )
    assert by_outstation == {"dongguan": 50, "huadu": 50, "hainan": 50}
    live, rebuilt = digests(county_engine)
    assert live == rebuilt


def test_kill_9_of_the_county_mid_batch_then_restart_archives_each_event_once(
    nats_server: EmbeddedNats, county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    record(node, mixed(20_000))
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    args = [
        TONGXIN,
        "county",
        "ingest",
        "--county-id",
        "jx",
        "--db",
        county_db_url,
        "--nats",
        nats_server.url,
        "--ack-wait",
        "2",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while count(county_engine, t.archive) < 3_000:
            assert proc.poll() is None and time.monotonic() < deadline, "county ingest did not make progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    archived_at_kill = count(county_engine, t.archive)
    assert 0 < archived_at_kill < 20_000, "killed in the middle"
    r = subprocess.run([*args, "--once"], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert count(county_engine, t.archive) == 20_000
    live, rebuilt = digests(county_engine)
    assert live == rebuilt


class SlowFirstBatch(Ingestor):
    """Holds its first batch past the ack wait, so that JetStream redelivers those messages."""

    slept = False

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        if not self.slept:
            self.slept = True
            time.sleep(2.5)
        return super().process(batch)


def test_redelivery_after_a_short_ack_wait_changes_nothing(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    record(node, mixed(600))
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    consumer = Consumer(SlowFirstBatch(county_engine, "jx"), nats_server.url, batch=200, ack_wait=1.0)
    asyncio.run(consumer.run(asyncio.Event(), once=True))
    assert consumer.ingestor.counts[Outcome.DUPLICATE] > 0, "redelivery happened"
    assert consumer.ingestor.counts[Outcome.ARCHIVED] == 600
    assert count(county_engine, t.archive) == 600
    live, rebuilt = digests(county_engine)
    assert live == rebuilt


async def _publish_raw(url: str, items: list[tuple[str, bytes]]) -> None:
    nc = await connect(url)
    try:
        js = nc.jetstream()
        for subject, data in items:
            await js.publish(subject, data)
    finally:
        await nc.close()


def test_raw_publishes_out_of_order_and_garbage_are_held_or_quarantined(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    datas = record(node, [fund(i) for i in range(4)])
    enrol_nodes(county_engine, node)
    subject = "tongxin.jx.events.dongguan"
    asyncio.run(
        _publish_raw(nats_server.url, [(subject, datas[0]), (subject, datas[2]), (subject, b"\x00garbage")])
    )
    ingest_once(county_engine, nats_server.url)
    assert (
        count(county_engine, t.archive),
        count(county_engine, t.held),
        count(county_engine, t.quarantine),
    ) == (1, 1, 1)
    asyncio.run(_publish_raw(nats_server.url, [(subject, datas[3]), (subject, datas[1])]))
    ingest_once(county_engine, nats_server.url)
    assert (
        count(county_engine, t.archive),
        count(county_engine, t.held),
        count(county_engine, figures.facts),
    ) == (
        4,
        0,
        4,
    )


class ChokesOnSeq3(Ingestor):
    """A processing failure that repeats for one message (a bug, or a poison message)."""

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        if any(b'"seq":3,' in item.data for item in batch):
            raise RuntimeError("cannot process seq 3")
        return super().process(batch)


def test_a_message_that_keeps_failing_is_quarantined_never_dropped(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    record(node, [fund(i) for i in range(5)])
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    consumer = Consumer(ChokesOnSeq3(county_engine, "jx"), nats_server.url, ack_wait=0.5, max_failures=3)
    asyncio.run(consumer.run(asyncio.Event(), once=True))
    with county_engine.connect() as conn:
        ((reason, seq_raw),) = conn.execute(select(t.quarantine.c.reason, t.quarantine.c.raw)).all()
    assert reason == "processing_error" and b'"seq":3,' in seq_raw
    assert count(county_engine, t.archive) == 2 and count(county_engine, t.held) == 2, "4 and 5 wait behind 3"


def test_without_a_signature_worker_the_county_verifies_in_a_thread(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine where no worker process can be started still ingests, every signature checked."""

    def cannot_spawn(self: VerifyPool) -> None:
        if self.workers > 0:
            raise OSError("no processes left")

    monkeypatch.setattr(VerifyPool, "start", cannot_spawn)
    node = open_node(tmp_path, "dongguan")
    record(node, mixed(120))
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    consumer = ingest_once(county_engine, nats_server.url)
    assert consumer.verify.workers == 0
    assert consumer.ingestor.counts == {Outcome.ARCHIVED: 120}
