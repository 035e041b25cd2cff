"""Guarantee 2 — nothing lost, nothing doubled, end to end: every event recorded at a node is in the
county archive exactly once, however often the link drops, a side restarts or NATS redelivers;
"forwarded" means confirmed by a county receipt."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/integration/test_forwarding.py::test_ten_thousand_events_recorded_offline_all_arrive_once",
    "tests/integration/test_forwarding.py::test_events_recorded_one_at_a_time_go_in_one_round_each_and_the_cursor_follows",
    "tests/integration/test_forwarding.py::test_nats_restarted_mid_forwarding_node_catches_up",
    "tests/integration/test_forwarding.py::test_republishing_after_a_lost_cursor_is_deduplicated",
    "tests/e2e/test_node_serve.py::test_kill_9_while_forwarding_then_restart_loses_and_doubles_nothing",
    "tests/county/test_ingest.py::test_each_envelope_is_archived_once_however_often_it_arrives",
    "tests/county/test_ingest_nats.py::test_three_nodes_forward_and_the_county_ingests_everything_once",
    "tests/county/test_ingest_nats.py::test_kill_9_of_the_county_mid_batch_then_restart_archives_each_event_once",
    "tests/county/test_ingest_nats.py::test_redelivery_after_a_short_ack_wait_changes_nothing",
    "tests/county/test_pull.py::test_every_message_once_in_bounded_batches",
    "tests/county/test_pull.py::test_what_is_never_acked_comes_again",
    "tests/county/test_pull.py::test_the_consumer_goes_on_after_the_server_restarts",
    "tests/county/test_pull.py::test_the_consumer_comes_back_after_its_durable_is_deleted",
    "tests/county/test_receipts.py::test_the_node_keeps_a_verified_receipt_for_its_last_acknowledged_seq",
    "tests/county/test_receipts.py::test_a_receipt_for_another_history_or_from_another_key_is_flagged",
    "tests/county/test_audit_integrity.py::test_a_county_that_drops_acknowledged_events_and_its_receipts_is_caught_by_the_nodes_receipts",
    "tests/e2e/test_audit_cli.py::test_the_nodes_receipts_catch_a_county_that_dropped_its_acknowledged_tail",
    "tests/e2e/test_demo.py::test_demo_lives_on_and_an_offline_node_catches_up",
)


def test_every_proof_of_guarantee_2_exists() -> None:
    assert missing(PROOFS) == []
