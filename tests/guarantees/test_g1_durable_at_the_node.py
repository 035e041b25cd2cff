"""Guarantee 1 — durable at the node: an append that returned success survives `kill -9` and power
loss (SQLite WAL, synchronous=FULL on every connection that writes the log)."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/integration/test_node_log.py::test_log_runs_in_wal_with_synchronous_full",
    "tests/integration/test_node_log.py::test_an_append_that_returned_survives_kill_9",
    "tests/integration/test_node_log.py::test_kill_during_a_batch_append_leaves_all_or_none",
    "tests/integration/test_node_log.py::test_a_batch_with_one_bad_item_appends_nothing",
    "tests/e2e/test_node_serve.py::test_serve_records_while_nats_is_down_and_stops_cleanly_on_sigterm",
)


def test_every_proof_of_guarantee_1_exists() -> None:
    assert missing(PROOFS) == []
