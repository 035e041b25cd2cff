"""Issue 17 on three real nats-servers (R3): the events stream's leader killed with `kill -9` while
21 nodes forward and the county ingests — every event in the archive once, and the pause it
caused reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shared.wire import STREAM
from tests.cluster.county import (
    PER_ROUND,
    Recorder,
    archived,
    assert_exactly_once,
    county_on_cluster,
    wait_all_archived,
)
from tests.repair.site import wait_until


def test_the_stream_leader_killed_mid_ingest_loses_and_doubles_nothing(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    with county_on_cluster(tmp_path) as (c, s, progress):
        recorder = Recorder(s, rounds=12, hold_at=4).start()
        first_half = 4 * PER_ROUND * len(s.nodes)
        wait_until(lambda: recorder.held.is_set() and archived(s) == first_half, 300, "the first rounds in")
        recorder.go.set()
        wait_until(lambda: archived(s) > first_half, 300, "the next rounds coming in")
        leader = c.leader_of(STREAM)
        killed_at, at_kill = time.monotonic(), archived(s)
        c.kill(leader)  # while the nodes forward and the county ingests
        recorder.join()
        total = recorder.per_node * len(s.nodes)
        wait_all_archived(s, total)
        done = time.monotonic()

        assert leader not in c.running()
        assert c.leader_of(STREAM) in c.running()
        assert progress.since(killed_at) > 0, "ingest resumed after the kill"
        assert_exactly_once(s, recorder.per_node)
        pause = progress.longest_pause(killed_at, done)
        resumed = min(t for t, _ in progress.batches if t > killed_at) - killed_at
        record_property("ingest_pause_s", round(pause, 2))
        record_property("first_batch_after_kill_s", round(resumed, 2))
        print(
            f"\nstream leader {leader} killed (-9): first batch ingested {resumed:.1f} s after, "
            f"longest pause in ingest {pause:.1f} s; {at_kill} of {total} events archived at the kill, "
            f"{progress.messages} messages ingested in all"
        )
