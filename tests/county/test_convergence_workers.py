"""Guarantees 4 and 5 with 1, 2 and 4 ingest workers on PostgreSQL: the convergence scenario's
events (tests/county/test_convergence.py: cross posts for other nodes' members, a member moved
between nodes, corrections, refused claims) split by node among W workers (`partitions.Share`),
each worker's share in any order and batch size, the workers' transactions running at the same
time in threads — the same digest as one ingest, and a rebuild gives it again (replay equality)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from services.county.ingest.partitions import Share
from services.county.ingest.processor import Ingestor
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from shared import envelope
from tests.conftest import postgres_database
from tests.county.helpers import enrol_nodes, feed
from tests.county.test_convergence import NODES, digest_after, envelopes, reset

__all__ = ["envelopes"]  # the module-scoped fixture, shared with test_convergence


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    with postgres_database() as url:
        engine = make_engine(url)
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def ingest_in_parallel(engine: Engine, shares: list[list[bytes]], batch: int) -> None:
    """Each share fed by its own worker (an Ingestor in a thread), all started together."""
    start = threading.Barrier(len(shares))
    failures: list[BaseException] = []

    def work(w: int, datas: list[bytes]) -> None:
        ingestor = Ingestor(engine, "jx")
        ingestor.positions = tuple(Share(w, len(shares)).position_keys())
        start.wait()
        try:
            feed(ingestor, datas, batch=batch)
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(w, d)) for w, d in enumerate(shares)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_w_workers_converge_to_one_ingest(
    workers: int, pg_engine: Engine, envelopes: tuple[list[bytes], list[Any]]
) -> None:
    datas, nodes = envelopes
    enrol_nodes(pg_engine, *nodes)
    reference = digest_after(pg_engine, datas, 1000)  # one ingest, in recording order
    owners = {n: w for w in range(workers) for n in Share(w, workers).nodes(pg_engine)}
    assert set(owners) == set(NODES)
    assert len(set(owners.values())) == min(workers, 3), "the nodes are spread over the workers"

    @settings(max_examples=6, deadline=None)
    @given(data=st.data())
    def arrival(data: st.DataObject) -> None:
        shuffled = data.draw(st.permutations(datas), label="arrival order")
        batch = data.draw(st.integers(min_value=1, max_value=40), label="batch size")
        shares: list[list[bytes]] = [[] for _ in range(workers)]
        for d in shuffled:
            shares[owners[envelope.decode(d).node_id]].append(d)
        reset(pg_engine)
        ingest_in_parallel(pg_engine, shares, batch)
        with pg_engine.connect() as conn:
            assert digest(conn) == reference
        with pg_engine.begin() as conn:
            rebuild(conn)
            assert digest(conn) == reference

    arrival()
