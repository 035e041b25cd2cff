"""Issue 12's transport cases against a real nats-server, SQLite and PostgreSQL: Msg-Id
pre-emption, another consumer on the county's durable, stream data lost while the county was not
pulling, the county's consumer deleted. Each ends with every node's archive equal to its log,
exactly, and the status and health saying what happened."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from services.county.db import tables as t
from services.county.ingest import position
from services.county.ingest.durable import consumer_name
from services.county.ingest.incoming import Outcome
from services.county.queries.node_health import node_health
from shared.streams import ensure_streams_on
from shared.transport import connect
from shared.wire import STREAM, events_subject, msg_id
from tests.repair.site import site, wait_until
from tests.samples import fund, registration
from tongxin.natsd import EmbeddedNats


async def _publish(url: str, subject: str, items: list[tuple[str, bytes]]) -> list[bool]:
    """Publish (Msg-Id, body) pairs; returns whether each was a duplicate."""
    nc = await connect(url)
    try:
        js = nc.jetstream()
        return [
            (await js.publish(subject, body, headers={"Nats-Msg-Id": mid})).duplicate is True
            for mid, body in items
        ]
    finally:
        await nc.close()


def _health(engine: Engine, node_id: str) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(node_health(conn, node_id)["items"][0])


def test_msg_ids_pre_empted_with_garbage_swallow_nothing(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    with site(tmp_path, nats_server.url, county_engine, ("huadu",)) as s:
        s.record("huadu", [fund(i, org="huadu") for i in range(10)])
        node = s.nodes["huadu"]
        node.sign_pending()
        ahead = node.envelopes.rows_after(5, 3)  # seqs 6–8, not yet forwarded
        subject = events_subject("jx", "huadu")
        # the old ids, and — as if the attacker knew the hashes — the new ones of seqs 6–8
        garbage = [(f"huadu:{seq}", b"garbage %d" % seq) for seq in range(1, 6)]
        garbage += [(msg_id("huadu", seq, h), b"pre-empted %d" % seq) for seq, h, _ in ahead]
        assert asyncio.run(_publish(nats_server.url, subject, garbage)) == [False] * 8
        s.start_county()
        fwd = s.start_node("huadu")
        s.wait_converged()
        assert fwd.state.resent >= 3 and fwd.state.repairs >= 1, "6–8 were re-sent under ids of their own"
        health = _health(county_engine, "huadu")
        assert health["quarantined"] == 8, "the garbage on huadu's subject counts against huadu"
        assert health["last_seq"] == 10 and health["gaps"] == []


def test_a_foreign_client_on_the_county_durable_steals_nothing_for_good(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    async def steal(n: int) -> int:
        nc = await connect(nats_server.url)
        try:
            sub = await nc.jetstream().pull_subscribe_bind(consumer_name("jx"), stream=STREAM)
            taken = 0
            while taken < n:
                for msg in await sub.fetch(n - taken, timeout=10):
                    await msg.ack()
                    taken += 1
            return taken
        finally:
            await nc.close()

    with site(tmp_path, nats_server.url, county_engine, ("dongguan", "huadu")) as s:
        consumer = s.start_county()
        for n in s.nodes:
            s.start_node(n)
        s.record("dongguan", [registration(i) for i in range(20)])
        s.wait_converged()
        s.stop_county()  # the thief takes the next 17 off the county's durable while it is down
        s.record("dongguan", [fund(i) for i in range(15)])
        s.record("huadu", [fund(i, org="huadu") for i in range(15)])
        wait_until(lambda: all(n.status().waiting == 0 for n in s.nodes.values()), 30, "sent")
        assert asyncio.run(steal(17)) == 17
        consumer = s.start_county()
        s.wait_converged()
        assert consumer.ingestor.counts[Outcome.ARCHIVED] == 30
        # and while it runs: a thief whose pull request waits ahead of the county's
        thief = asyncio.new_event_loop()
        try:
            stolen = thief.create_task(steal(5))
            thief.run_until_complete(asyncio.sleep(1.5))
            s.record("huadu", [fund(100 + i, org="huadu") for i in range(12)])
            assert thief.run_until_complete(stolen) == 5
        finally:
            thief.close()
        s.wait_converged()
        resent = sum(f.state.resent for f, _ in s.forwarders.values())
        assert resent >= 5, "what was stolen came again from the nodes' logs"


def test_stream_data_lost_while_the_county_was_not_pulling_is_re_sent(
    county_engine: Engine, tmp_path: Path
) -> None:
    server = EmbeddedNats(tmp_path / "nats", open_access=True)
    server.start()
    try:
        asyncio.run(_ensure(server.url))
        with site(tmp_path, server.url, county_engine, ("hainan",)) as s:
            s.start_county()
            fwd = s.start_node("hainan")
            s.record("hainan", [fund(i, org="hainan") for i in range(10)])
            s.wait_converged()
            s.stop_county()  # paused: 5 events reach the stream and nothing else
            s.record("hainan", [fund(10 + i, org="hainan") for i in range(5)])
            wait_until(lambda: s.nodes["hainan"].status().waiting == 0, 30, "sent")
            assert s.nodes["hainan"].status().unconfirmed == 5, "sent is not confirmed"
            assert asyncio.run(_purge(server.url)) == "refused", "the stream denies purge"
            server.stop()  # … so the loss is the disk's: the server's store is gone
            shutil.rmtree(server.store_dir)
            server.start()
            consumer = s.start_county()
            wait_until(lambda: consumer.state.connected, 10, "the county connected")
            assert asyncio.run(_start_of_durable(server.url)) in (0, 1), "read the new stream from its start"
            s.wait_converged()
            assert fwd.state.resent >= 5 and fwd.state.repairs >= 1
            assert _health(county_engine, "hainan")["last_seq"] == 15
            with county_engine.connect() as conn:
                held = position.read(conn, STREAM)
            assert 0 < held <= asyncio.run(_last_seq(server.url)), (
                "the position follows the new stream's seqs"
            )
    finally:
        server.stop()


async def _start_of_durable(url: str) -> int:
    nc = await connect(url)
    try:
        for _ in range(100):
            try:
                info = await nc.jetstream().consumer_info(STREAM, consumer_name("jx"))
                return int(info.config.opt_start_seq or 0)
            except Exception:
                await asyncio.sleep(0.1)
        return -1
    finally:
        await nc.close()


async def _last_seq(url: str) -> int:
    nc = await connect(url)
    try:
        return int((await nc.jetstream().stream_info(STREAM)).state.last_seq)
    finally:
        await nc.close()


async def _ensure(url: str) -> None:
    nc = await connect(url)
    try:
        await ensure_streams_on(nc.jetstream())
    finally:
        await nc.close()


async def _purge(url: str) -> str:
    nc = await connect(url)
    try:
        await nc.jetstream().purge_stream(STREAM)
        return "purged"
    except Exception:
        return "refused"
    finally:
        await nc.close()


@pytest.mark.parametrize("forget_position", [False, True], ids=["resumed", "position_lost"])
def test_a_deleted_consumer_resumes_from_the_archive_and_quarantine_keeps_one_row(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path, forget_position: bool
) -> None:
    with site(tmp_path, nats_server.url, county_engine) as s:
        consumer = s.start_county()
        fwd = s.start_node("dongguan")
        s.record("dongguan", [registration(i) for i in range(100)])
        asyncio.run(
            _publish(nats_server.url, events_subject("jx", "dongguan"), [("junk-1", b"not an envelope")])
        )
        s.wait_converged()
        wait_until(lambda: _quarantined(county_engine) == 1, 10, "the junk quarantined")
        s.stop_county()
        if forget_position:  # a database from before positions were kept: the whole stream comes again
            with county_engine.begin() as conn:
                conn.execute(t.ingest_position.delete())
        asyncio.run(_delete_consumer(nats_server.url))
        consumer = s.start_county()
        wait_until(lambda: consumer.state.connected, 10, "the county connected")
        s.record("dongguan", [fund(i) for i in range(20)])
        s.wait_converged()
        duplicates = consumer.ingestor.counts[Outcome.DUPLICATE] - fwd.state.resent  # less the node's own
        if forget_position:
            assert duplicates >= 100, "without a position the whole stream came again (and changed nothing)"
        else:
            assert duplicates <= 0, "resumed after what the archive holds: nothing of the stream read again"
        assert _quarantined(county_engine) == 1, "the junk read again adds no second row"


def _quarantined(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.quarantine)).scalar_one())


async def _delete_consumer(url: str) -> None:
    nc = await connect(url)
    try:
        await nc.jetstream().delete_consumer(STREAM, consumer_name("jx"))
    finally:
        await nc.close()
