"""Issue 17 on three real nats-servers (R3): one server gone for good — the one leading the
county's durable consumer, killed with `kill -9` and never started again — and the county goes
on ingesting from 21 nodes with two of three."""

from __future__ import annotations

from pathlib import Path

from services.county.ingest.durable import consumer_name
from shared.wire import STREAM
from tests.cluster.county import Recorder, assert_exactly_once, county_on_cluster, wait_all_archived
from tests.repair.site import wait_until


def test_with_one_server_gone_for_good_the_county_goes_on(tmp_path: Path) -> None:
    with county_on_cluster(tmp_path) as (c, s, progress):
        recorder = Recorder(s, rounds=8, hold_at=4).start()
        wait_until(lambda: recorder.held.is_set() and progress.messages > 0, 300, "ingest under way")
        gone = c.leader_of(STREAM, consumer_name("jx"))
        c.kill(gone)
        ingested = progress.messages
        recorder.go.set()
        recorder.join()
        wait_all_archived(s, recorder.per_node * len(s.nodes))

        assert c.running() == sorted(set(c.servers) - {gone})
        assert progress.messages > ingested
        assert c.leader_of(STREAM, consumer_name("jx")) != gone
        assert_exactly_once(s, recorder.per_node)
