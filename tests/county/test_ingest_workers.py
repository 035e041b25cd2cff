"""Parallel county ingest on PostgreSQL: 2 and 4 `county ingest --worker N --workers W` processes
through a real nats-server, one of them killed with kill -9 mid-run and restarted; a member whose
events come from three nodes owned by different workers; everything equal to one ingest."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from services.county.cli import app
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.partitions import PARTITIONS, Share, ShareError, partition_of
from services.county.ingest.processor import Ingestor
from services.county.keys import load_or_create
from services.county.projections import roster
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared.transport import connect
from shared.wire import events_subject
from tests.conftest import postgres_database
from tests.county.authority_scenario import Chain, fund
from tests.county.helpers import count
from tests.e2e.conftest import TONGXIN
from tests.ids import sample_member_id
from tests.samples import id_number
from tongxin.natsd import EmbeddedNats

PER_NODE = 5_000


def three_nodes() -> list[str]:
    """Three node ids which, enrolled in this order into a county with no node yet, take the slots
    0, 1 and 2: owned by as many different workers as there are (two of them with 2)."""
    return ["node0", "node1", "node2"]


def owners(engine: Engine, workers: int) -> dict[str, int]:
    """Each enrolled node's worker of `workers`, as the workers read it from the database."""
    return {n: w for w in range(workers) for n in Share(w, workers).nodes(engine)}


MOVERS = 40
"""Members each registered at the first node, moved by it to the second, by the second to the
third, where they take a cross post: every one derived from events of three nodes."""


def stories(node_ids: list[str]) -> tuple[dict[str, Chain], list[str]]:
    """Each node's chain (its own funds, and its part of the movers' stories), and the movers."""
    chains = {n: Chain(n) for n in node_ids}
    first, second, third = chains.values()
    movers = [sample_member_id(999_000 + i) for i in range(MOVERS)]
    for i, m in enumerate(movers):
        personal = {"name": f"成员{i}", "id_number": id_number(999_000 + i)}
        first.add(
            "member.registered",
            1,
            member_id=m,
            personal=personal,
            home_branch="v1",
            outstation=first.node_id,
            host_location="广东东莞",
            flowed_out_on="2019-03-01",
        )
        first.add(
            "member.moved", 2, member_id=m, outstation=second.node_id, host_location="二", host_org=None
        )
        second.add(
            "member.moved", 3, member_id=m, outstation=third.node_id, host_location="三", host_org=None
        )
        third.add("post.cross_assigned", 4, member_id=m, org_id=third.node_id, post="委员")
    for chain in chains.values():  # funds up to PER_NODE, interleaved with the stories' ends
        while len(chain.envelopes) < PER_NODE:
            fund(chain, 5 + len(chain.envelopes) % 20, chain.node_id, 100 + len(chain.envelopes))
    return chains, movers


def enrol_all(engine: Engine, chains: dict[str, Chain]) -> None:
    with engine.begin() as conn:
        for chain in chains.values():
            enrol(conn, chain.node_id, chain.signer.public_key_hex)


async def publish(url: str, chains: dict[str, Chain]) -> None:
    nc = await connect(url)
    try:
        js = nc.jetstream()
        longest = max(len(chain.envelopes) for chain in chains.values())
        for k in range(longest):  # the nodes' messages interleaved in the stream
            for chain in chains.values():
                if k < len(chain.envelopes):
                    await js.publish(events_subject("jx", chain.node_id), chain.envelopes[k])
    finally:
        await nc.close()


def workers_args(url: str, nats_url: str, worker: int, workers: int) -> list[str]:
    return [
        TONGXIN,
        "county",
        "ingest",
        "--county-id",
        "jx",
        "--db",
        url,
        "--nats",
        nats_url,
        "--ack-wait",
        "2",
        "--worker",
        str(worker),
        "--workers",
        str(workers),
    ]


def archived_of(engine: Engine, node_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(t.archive).where(t.archive.c.node_id == node_id)
            ).scalar_one()
        )


def member_rows(engine: Engine, member_id: str) -> tuple[list[Any], list[Any]]:
    """The member's roster row and its timeline (the cross posts in each version)."""
    with engine.connect() as conn:
        members = conn.execute(select(roster.members).where(roster.members.c.member_id == member_id)).all()
        posts = conn.execute(
            select(roster.member_timeline)
            .where(roster.member_timeline.c.member_id == member_id)
            .order_by(roster.member_timeline.c.valid_from)
        ).all()
    return [tuple(r) for r in members], [tuple(r) for r in posts]


@pytest.fixture
def two_databases() -> Iterator[tuple[Engine, Engine]]:
    with postgres_database() as shared_url, postgres_database() as single_url:
        engines = (make_engine(shared_url), make_engine(single_url))
        for engine in engines:
            migrate(engine)
        try:
            yield engines
        finally:
            for engine in engines:
                engine.dispose()


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_share_the_nodes_and_a_kill_9_loses_nothing(
    workers: int, two_databases: tuple[Engine, Engine], nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    engine, single = two_databases
    node_ids = three_nodes()
    chains, movers = stories(node_ids)
    for db in (engine, single):
        enrol_all(db, chains)
    owner = owners(engine, workers)
    assert len(set(owner.values())) == min(3, workers)
    load_or_create(Path(os.environ["TONGXIN_COUNTY_KEY"]))  # the receipt key, before the workers start
    asyncio.run(publish(nats_server.url, chains))
    url = engine.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen(
            workers_args(url, nats_server.url, w, workers),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for w in range(workers)
    ]
    victim = node_ids[0]  # its worker is killed while it has ingested part of its node
    killed = owner[victim]
    try:
        deadline = time.monotonic() + 180
        while archived_of(engine, victim) == 0:
            assert all(p.poll() is None for p in procs) and time.monotonic() < deadline, "no progress"
            time.sleep(0.02)
        procs[killed].send_signal(signal.SIGKILL)
        procs[killed].wait()
        at_kill = archived_of(engine, victim)
        assert at_kill < PER_NODE, "killed in the middle of its node"
        restarted = subprocess.run(
            [*workers_args(url, nats_server.url, killed, workers), "--once"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert restarted.returncode == 0, restarted.stderr
        while count(engine, t.archive) < 3 * PER_NODE:
            assert time.monotonic() < deadline, "the other workers did not finish"
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    assert count(engine, t.archive) == 3 * PER_NODE
    assert {n: archived_of(engine, n) for n in node_ids} == dict.fromkeys(owner, PER_NODE)
    with engine.connect() as conn:
        quarantined = conn.execute(select(func.count()).select_from(t.quarantine)).scalar_one()
    assert quarantined == 0

    # one ingest of the same stream into another database: the same projections, row for row
    alone = Consumer(Ingestor(single, "jx"), nats_server.url)
    asyncio.run(alone.run(asyncio.Event(), once=True))
    third = node_ids[2]
    for m in movers:
        members, versions = member_rows(engine, m)
        assert len(members) == 1, "one row for the member, whichever worker derived it last"
        row = dict(zip(roster.members.c.keys(), members[0], strict=True))
        assert (row["outstation"], row["host_location"]) == (third, "三")
        timeline = [dict(zip(roster.member_timeline.c.keys(), v, strict=True)) for v in versions]
        assert [json.loads(v["cross_posts"]) for v in timeline if v["valid_to"] is None] == [
            [[third, "委员"]]
        ]
        assert len(timeline) == 4, "registered, moved, moved again, the cross post"
        assert (members, versions) == member_rows(single, m)
    with engine.connect() as conn:
        live = digest(conn)
    with single.connect() as conn:
        assert live == digest(conn), "W workers and one ingest derived the same"
    with engine.begin() as conn:
        rebuild(conn)
        assert live == digest(conn), "a rebuild from the archive gives what the workers derived"


def test_a_share_owns_its_partitions_and_nothing_else() -> None:
    slots = {f"n{i}": i for i in range(50)}
    for workers in (1, 2, 3, 4, PARTITIONS):
        shares = [Share(w, workers, slots=slots) for w in range(workers)]
        owned = sorted(p for s in shares for p in s.owned())
        assert owned == list(range(PARTITIONS))
        for i in range(50):
            assert sum(s.owns(f"n{i}") for s in shares) == 1
        assert not any(s.owns("not-enrolled") for s in shares), "a node with no slot is no worker's"
    assert [partition_of(s) for s in (0, 15, 16, 37)] == [0, 15, 0, 5]
    assert Share(1, 2).consumer_name("jx") == "county-jx-w1of2"
    for bad in ((2, 2), (-1, 2), (0, PARTITIONS + 1), (0, 0)):
        with pytest.raises(ShareError):
            Share(*bad)


def test_sqlite_refuses_several_workers(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'county.db'}"
    r = CliRunner().invoke(
        app, ["ingest", "--county-id", "jx", "--db", db, "--workers", "2", "--worker", "1"]
    )
    assert r.exit_code == 2 and "--workers" in r.output and "PostgreSQL" in r.output
    r = CliRunner().invoke(
        app, ["ingest", "--county-id", "jx", "--db", db, "--workers", "1", "--worker", "1"]
    )
    assert r.exit_code == 2 and "--worker" in r.output
