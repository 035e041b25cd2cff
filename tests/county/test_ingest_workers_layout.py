"""Changing the number of ingest workers (docs/operations.md §17.5): after `county ingest
--workers 2` then `--workers 4` (each `--once`, the old ones stopped), only the four workers'
durables are left on the stream — worker 0 of the new W deletes the old layout's, whose
positions were in the database all along — and nothing is lost or read twice (PostgreSQL, a real
nats-server)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.keys import load_or_create
from shared.transport import connect
from shared.wire import STREAM
from tests.county.authority_scenario import Chain, fund
from tests.county.helpers import count
from tests.county.test_ingest_workers import enrol_all, publish, three_nodes, two_databases, workers_args
from tongxin.natsd import EmbeddedNats

__all__ = ["two_databases"]  # the fixture

EACH = 200


async def consumers(url: str) -> set[str]:
    nc = await connect(url)
    try:
        return {c.name for c in await nc.jetstream().consumers_info(STREAM)}
    finally:
        await nc.close()


def run_workers(db_url: str, nats_url: str, workers: int) -> None:
    """W workers, each until nothing is pending (`--once`), all stopped when this returns."""
    procs = [
        subprocess.Popen(
            [*workers_args(db_url, nats_url, w, workers), "--once"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err


def test_a_new_number_of_workers_leaves_only_its_own_consumers(
    two_databases: tuple[Engine, Engine], nats_server: EmbeddedNats
) -> None:
    engine, _ = two_databases
    nodes = three_nodes()
    first = {n: Chain(n) for n in nodes}
    later = {n: Chain(f"{n}x") for n in nodes}  # published between the two runs
    for chains in (first, later):
        for chain in chains.values():
            for i in range(EACH):
                fund(chain, 1 + i % 20, chain.node_id, 100 + i)
        enrol_all(engine, chains)
    load_or_create(Path(os.environ["TONGXIN_COUNTY_KEY"]))
    url = engine.url.render_as_string(hide_password=False)

    alone = Consumer(Ingestor(engine, "jx"), nats_server.url)  # the one ingest, before any worker
    asyncio.run(publish(nats_server.url, {n: first[n] for n in nodes[:1]}))
    asyncio.run(alone.run(asyncio.Event(), once=True))
    assert asyncio.run(consumers(nats_server.url)) == {"county-jx"}

    asyncio.run(publish(nats_server.url, {n: first[n] for n in nodes[1:]}))
    run_workers(url, nats_server.url, 2)
    assert asyncio.run(consumers(nats_server.url)) == {"county-jx-w0of2", "county-jx-w1of2"}
    assert count(engine, t.archive) == 3 * EACH

    asyncio.run(publish(nats_server.url, later))
    run_workers(url, nats_server.url, 4)
    assert asyncio.run(consumers(nats_server.url)) == {f"county-jx-w{w}of4" for w in range(4)}
    assert count(engine, t.archive) == 6 * EACH, "nothing lost, nothing twice"

    asyncio.run(Consumer(Ingestor(engine, "jx"), nats_server.url).run(asyncio.Event(), once=True))
    assert asyncio.run(consumers(nats_server.url)) == {"county-jx"}, "back to one ingest"
    assert count(engine, t.archive) == 6 * EACH
