"""A node enrolled while W ingest workers run reaches its worker: the worker that owned no node
yet starts a consumer, the one that owned others recreates its consumer with the new node's
subject from that node's first message in the stream. Nothing is read twice into the archive,
nothing is lost (PostgreSQL, a real nats-server, `county ingest --workers 4` processes)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from services.county.db import tables as t
from services.county.keys import load_or_create
from tests.county.authority_scenario import Chain, fund
from tests.county.helpers import count
from tests.county.test_ingest_workers import (
    archived_of,
    enrol_all,
    owners,
    publish,
    three_nodes,
    two_databases,
    workers_args,
)
from tongxin.natsd import EmbeddedNats

__all__ = ["two_databases"]  # the fixture

WORKERS = 4
EACH = 300


def wait_for(engine: Engine, wanted: dict[str, int], procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120
    while {n: archived_of(engine, n) for n in wanted} != wanted:
        assert all(p.poll() is None for p in procs), "a worker stopped"
        assert time.monotonic() < deadline, {n: archived_of(engine, n) for n in wanted}
        time.sleep(0.05)


def test_a_node_enrolled_while_the_workers_run_is_ingested_from_its_first_message(
    two_databases: tuple[Engine, Engine], nats_server: EmbeddedNats
) -> None:
    engine, _ = two_databases
    early = three_nodes()  # slots 0, 1, 2: workers 0, 1 and 2; worker 3 owns no node yet
    lonely, neighbour = "node3", "node4"  # slots 3 and 4 when enrolled: workers 3 and 0
    chains = {n: Chain(n) for n in (*early, lonely, neighbour)}
    for chain in chains.values():
        for i in range(EACH):
            fund(chain, 1 + i % 20, chain.node_id, 100 + i)
    enrol_all(engine, {n: chains[n] for n in early})
    assert set(owners(engine, WORKERS).values()) == {0, 1, 2}
    load_or_create(Path(os.environ["TONGXIN_COUNTY_KEY"]))
    asyncio.run(publish(nats_server.url, chains))  # the late nodes' messages among the others'
    url = engine.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen(workers_args(url, nats_server.url, w, WORKERS), stderr=subprocess.DEVNULL)
        for w in range(WORKERS)
    ]
    try:
        wait_for(engine, dict.fromkeys(early, EACH), procs)
        assert archived_of(engine, lonely) == archived_of(engine, neighbour) == 0, "not enrolled: not read"
        enrol_all(engine, {n: chains[n] for n in (lonely, neighbour)})
        owner = owners(engine, WORKERS)
        assert owner[lonely] == 3 and owner[neighbour] == owner[early[0]] == 0
        wait_for(engine, dict.fromkeys(chains, EACH), procs)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    assert count(engine, t.archive) == 5 * EACH
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.quarantine)).scalar_one() == 0
