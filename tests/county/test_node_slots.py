"""Each enrolled node has a slot, its place in the order of enrolment, and the ingest workers share
the nodes by it (`partitions.Share`): the bench's 21 nodes split evenly, not as a hash of their
ids spread them (14 and 7 over 2 workers; 8, 4, 6 and 3 over 4)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.partitions import Share
from services.county.registry import enrol
from shared.signing import Signer
from tests.conftest import postgres_database

BENCH = [f"os-{i:02d}" for i in range(1, 22)]
"""The bench's outstations."""


def enrol_one(engine: Engine, node_id: str, key: str | None = None) -> None:
    with engine.begin() as conn:
        enrol(conn, node_id, key or Signer.generate().public_key_hex)


def slots(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {n: int(s) for n, s in conn.execute(select(t.nodes.c.node_id, t.nodes.c.slot))}


def test_21_nodes_enrolled_in_turn_split_evenly_over_the_workers(county_engine: Engine) -> None:
    keys = {n: Signer.generate().public_key_hex for n in BENCH}
    for node_id in reversed(BENCH):  # enrolment order, not the ids' order, gives the slots
        enrol_one(county_engine, node_id, keys[node_id])
    assert slots(county_engine) == {n: 20 - i for i, n in enumerate(BENCH)}
    enrol_one(county_engine, "os-21", keys["os-21"])  # enrolled again: the same slot
    assert slots(county_engine)["os-21"] == 0
    split = {w: [len(Share(k, w).nodes(county_engine)) for k in range(w)] for w in (1, 2, 3, 4, 16)}
    assert split == {1: [21], 2: [11, 10], 3: [8, 7, 6], 4: [6, 5, 5, 5], 16: [2] * 5 + [1] * 11}
    enrol_one(county_engine, "os-22")
    assert slots(county_engine)["os-22"] == 21
    assert [len(Share(k, 2).nodes(county_engine)) for k in range(2)] == [11, 11]


def test_enrolments_at_once_take_different_slots_on_postgresql() -> None:
    with postgres_database() as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            first = engine.connect()
            first.begin()
            enrol(first, "first", Signer.generate().public_key_hex)  # holds the slots' lock
            failed: list[BaseException] = []

            def enrol_second() -> None:
                try:
                    enrol_one(engine, "second")
                except BaseException as exc:  # re-raised in the test's thread
                    failed.append(exc)

            second = threading.Thread(target=enrol_second)
            second.start()
            second.join(timeout=0.5)
            assert second.is_alive(), "the second enrolment waits for the first's commit"
            first.commit()
            first.close()
            second.join(timeout=30)
            assert not failed, failed
            assert slots(engine) == {"first": 0, "second": 1}
        finally:
            engine.dispose()


@pytest.mark.parametrize("workers", [2, 4])
def test_every_worker_agrees_on_who_owns_a_node(county_engine: Engine, workers: int) -> None:
    for node_id in BENCH[:7]:
        enrol_one(county_engine, node_id)
    shares = [Share(w, workers) for w in range(workers)]
    mine = [set(s.nodes(county_engine)) for s in shares]
    assert set().union(*mine) == set(BENCH[:7]) and sum(map(len, mine)) == 7
    for node_id in [*BENCH[:7], "never-enrolled"]:
        assert sum(s.owns(node_id) for s in shares) == (node_id != "never-enrolled")
