"""Issue 17 on three real nats-servers (R3): a rolling restart — each server stopped, started
again on its ports and store, and the cluster current again before the next — while 21 nodes
record and forward and the county ingests: nothing lost, nothing doubled."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.county import (
    PER_ROUND,
    assert_exactly_once,
    county_on_cluster,
    record_round,
    wait_all_archived,
)


def test_a_rolling_restart_of_all_three_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with county_on_cluster(tmp_path) as (c, s, progress):
        rounds = 0
        for name in c.servers:
            record_round(s, rounds)  # before it stops,
            c.stop(name)
            record_round(s, rounds + 1)  # while it is down,
            c.start(name)
            record_round(s, rounds + 2)  # and as it catches up
            rounds += 3
            c.wait_current()
            assert c.running() == sorted(c.servers)
        per_node = rounds * PER_ROUND
        wait_all_archived(s, per_node * len(s.nodes))
        assert progress.messages >= per_node * len(s.nodes)
        assert_exactly_once(s, per_node)
