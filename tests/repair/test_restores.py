"""Issue 12's restore cases against a real nats-server, SQLite and PostgreSQL: a node restored
from an older backup (a fork, then `node recover`), and the county database restored from an
older backup (the county re-reads the stream and announces its real heads, nodes re-send). The
backups are taken and restored by what `tongxin node|county backup|restore` run. Each ends with
every node's archive equal to its log, exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Engine, select

from services.branch_node import backup as node_backup
from services.branch_node import recover
from services.county import backup as county_backup
from services.county.db import tables as t
from services.county.queries.node_health import node_health
from shared import envelope
from tests.repair.site import site, wait_until
from tests.samples import fund, registration
from tongxin.natsd import EmbeddedNats


def test_a_node_restored_from_an_older_backup_forks_then_recovers_everything(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    with site(tmp_path, nats_server.url, county_engine, ("dongguan",)) as s:
        s.start_county()
        s.start_node("dongguan")
        s.record("dongguan", [registration(i) for i in range(5)])
        s.wait_converged()
        node_backup.backup(tmp_path / "dongguan", tmp_path / "backup")
        s.record("dongguan", [fund(i) for i in range(2)])  # 6–7: archived, then lost with the disk
        s.wait_converged()
        s.stop_node("dongguan")
        node_backup.restore(tmp_path / "backup", tmp_path / "dongguan", force=True)
        node = s.reopen("dongguan")
        s.record("dongguan", [fund(100 + i) for i in range(3)])  # the clerk goes on: 6', 7', 8'
        typed = [envelope.decode(d) for _, _, d in node.envelopes.rows_after(5, 10)]
        fwd = s.start_node("dongguan")
        wait_until(lambda: fwd.state.forked is not None, 30, "the fork noticed")
        st = node.status()
        assert st.fork is not None and st.fork.seq == 7 and st.backlog > 0, "not 全部上报"
        s.stop_node("dongguan")

        plan = recover.plan(node, asyncio.run(recover.fetch(node, nats_server.url)))
        assert (plan.fork_at, plan.county_head, len(plan.collided)) == (6, 7, 3)
        done = recover.apply(node, plan)
        assert (done.restored, len(done.recorded_again), done.refused) == (2, 3, [])
        assert node.verify().ok and node.status().fork is None

        s.start_node("dongguan")
        s.wait_converged()
        assert [seq for seq, _ in s.archive_of("dongguan")] == list(range(1, 12))
        envs = [envelope.decode(d) for _, _, d in node.envelopes.rows_after(7, 10)]
        assert envs[0].type == "node.recovered"
        assert [c["seq"] for c in envelope.payload_tree(envs[0].payload)["collided"]] == [6, 7, 8]
        assert [e.payload for e in envs[1:]] == [e.payload for e in typed], "nothing the clerk typed is lost"
        assert {e.event_id for e in envs[1:]}.isdisjoint({e.event_id for e in typed}), "as new events"


def test_the_county_database_restored_from_an_older_backup_gets_back_what_it_lost(
    nats_server: EmbeddedNats, county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    with site(tmp_path, nats_server.url, county_engine, ("dongguan", "huadu")) as s:
        s.start_county()
        for n in s.nodes:
            s.start_node(n)
        s.record("dongguan", [registration(i) for i in range(2)])
        s.record("huadu", [fund(i, org="huadu") for i in range(2)])
        s.wait_converged()
        s.stop_county()
        county_backup.backup(county_db_url, tmp_path / "county.backup", None)
        consumer = s.start_county()
        s.record("dongguan", [fund(i) for i in range(2)])  # 3–4: acknowledged, then lost with the database
        s.wait_converged()
        s.stop_county()
        county_engine.dispose()
        county_backup.restore(tmp_path / "county.backup", county_db_url, None, force=True)
        assert [seq for seq, _ in s.archive_of("dongguan")] == [1, 2], "the restore lost 3–4"
        consumer = s.start_county()
        s.wait_converged()
        s.record("dongguan", [fund(10)])
        s.wait_converged()
        assert [seq for seq, _ in s.archive_of("dongguan")] == [1, 2, 3, 4, 5]
        assert consumer.ingestor.counts["archived"] >= 3
        with county_engine.connect() as conn:
            health = {i["node_id"]: i for i in node_health(conn)["items"]}
            newest = conn.execute(
                select(t.receipts.c.seq)
                .where(t.receipts.c.node_id == "dongguan")
                .order_by(t.receipts.c.issued_at.desc())
            ).first()
        assert health["dongguan"]["last_seq"] == 5 and health["dongguan"]["gaps"] == []
        assert newest is not None and newest[0] == 5


def test_a_void_recovered_from_the_county_counts_at_the_node_again(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    """A void of a member's return, recorded after the node's backup and lost with its disk, is
    fetched back by `node recover` into the member's history at the node: the member is out again
    there, so the clerk may record a return."""
    with site(tmp_path, nats_server.url, county_engine, ("dongguan",)) as s:
        s.start_county()
        s.start_node("dongguan")
        s.record("dongguan", [registration(1)])
        member = registration(1)["payload"]["member_id"]
        returned = {"type": "member.returned", "payload": {"member_id": member}}
        s.record("dongguan", [returned])
        s.wait_converged()
        node_backup.backup(tmp_path / "dongguan", tmp_path / "backup")
        node = s.nodes["dongguan"]
        (target,) = [envelope.decode(d) for _, _, d in node.envelopes.rows_after(1, 1)]
        void = {"target_seq": 2, "target_event_id": target.event_id, "target_type": "member.returned"}
        s.record("dongguan", [{"type": "record.voided", "payload": void | {"reason": "误录"}}])
        s.wait_converged()
        s.stop_node("dongguan")
        node_backup.restore(tmp_path / "backup", tmp_path / "dongguan", force=True)
        node = s.reopen("dongguan")
        plan = recover.plan(node, asyncio.run(recover.fetch(node, nats_server.url)))
        done = recover.apply(node, plan)
        assert (done.restored, done.refused) == (1, [])
        assert node.verify().ok
        s.record("dongguan", [returned])  # refused as "already returned" if the void were not applied
        last = [envelope.decode(d) for _, _, d in node.envelopes.rows_after(0, 10)]
        assert [e.type for e in last] == [
            "member.registered",
            "member.returned",
            "record.voided",
            "node.recovered",
            "member.returned",
        ]
