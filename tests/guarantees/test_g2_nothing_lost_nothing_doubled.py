"""Guarantee 2 — nothing lost, nothing doubled, end to end: every event recorded at a node is in the
county archive exactly once, however often the link drops, a side restarts, NATS redelivers, loses
or is fed hostile messages, and whichever side is restored from a backup; "forwarded" means
confirmed by a county receipt, and what the transport lost is re-sent from the node's log."""

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
    "tests/repair/test_transport_losses.py::test_msg_ids_pre_empted_with_garbage_swallow_nothing",
    "tests/repair/test_transport_losses.py::test_a_foreign_client_on_the_county_durable_steals_nothing_for_good",
    "tests/repair/test_transport_losses.py::test_stream_data_lost_while_the_county_was_not_pulling_is_re_sent",
    "tests/repair/test_transport_losses.py::test_a_deleted_consumer_resumes_from_the_archive_and_quarantine_keeps_one_row",
    "tests/repair/test_restores.py::test_a_node_restored_from_an_older_backup_forks_then_recovers_everything",
    "tests/repair/test_restores.py::test_the_county_database_restored_from_an_older_backup_gets_back_what_it_lost",
    "tests/repair/test_archive_reply.py::test_only_the_node_itself_gets_its_envelopes_back",
    "tests/repair/test_stream_limits.py::test_a_full_stream_refuses_publishes_loudly_and_the_node_keeps_its_backlog",
    "tests/repair/test_stream_limits.py::test_the_stream_denies_delete_and_purge_and_runs_with_its_limits",
    "tests/e2e/test_backup_restore.py::test_a_node_backed_up_while_it_records_is_a_consistent_copy_with_its_modes",
    "tests/e2e/test_backup_restore.py::test_a_county_backed_up_while_it_ingests_is_one_consistent_moment",
    "tests/e2e/test_backup_restore.py::test_restored_by_the_commands_a_county_and_a_node_get_back_everything",
    "tests/unit/test_repair.py::test_nothing_is_re_sent_while_the_county_confirms_or_within_the_grace_period",
    "tests/unit/test_repair.py::test_requests_not_from_the_county_just_now_for_this_node_are_refused",
    "tests/cluster/test_leader_killed.py::test_the_stream_leader_killed_mid_ingest_loses_and_doubles_nothing",
    "tests/cluster/test_server_lost.py::test_with_one_server_gone_for_good_the_county_goes_on",
    "tests/cluster/test_rolling_restart.py::test_a_rolling_restart_of_all_three_loses_and_doubles_nothing",
)


def test_every_proof_of_guarantee_2_exists() -> None:
    assert missing(PROOFS) == []
