"""Guarantee 7 — bad input is refused clearly and kept: malformed, unknown-type, unsigned or
wrongly-signed, future-versioned or unknown-node messages never reach a projection; they go to
quarantine with the reason and can be re-processed; a bad HTTP request gets a 4xx naming the
field and nothing is half-written. Hostile input (issue 13) included: a `Status` header is no
server status; a value beyond the bounds both databases store (depth, seq, schema, calendar,
clock, control characters) is quarantined on its first delivery with its own reason, and refused
at every edge of the node; the unforeseen logs one line per delivery; no node's message can
take another node's key; random and mutated messages among good ones end alike on both databases."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/county/test_ingest.py::test_every_bad_message_is_quarantined_with_its_reason_while_good_ones_flow",
    "tests/county/test_ingest.py::test_an_unknown_nodes_events_are_projected_after_enrolment_and_retry",
    "tests/county/test_ingest_nats.py::test_a_message_that_keeps_failing_is_quarantined_never_dropped",
    "tests/county/test_ingest_nats.py::test_raw_publishes_out_of_order_and_garbage_are_held_or_quarantined",
    "tests/unit/test_catalog.py::test_invalid_payload_on_the_wire_is_refused_naming_the_field",
    "tests/unit/test_catalog.py::test_future_schema_is_refused_naming_schema",
    "tests/integration/test_node_api.py::test_bad_requests_name_the_field_and_leave_the_log_unchanged",
    "tests/integration/test_node_api.py::test_batch_is_all_or_nothing_and_names_item_and_field",
    "tests/e2e/test_node_cli.py::test_bad_input_exits_2_names_the_field_and_appends_nothing",
    "tests/county/test_api_queries.py::test_bad_parameters_get_422_naming_the_parameter",
    "tests/county/test_point_in_time.py::test_bad_points_in_time_get_422_naming_the_parameter",
    "tests/county/test_hostile_input.py::test_status_headers_and_other_hostile_headers_are_messages_like_any_other",
    "tests/county/test_hostile_input.py::test_values_out_of_bounds_are_quarantined_on_their_first_delivery_with_their_reason",
    "tests/county/test_hostile_input.py::test_the_unforeseen_logs_one_line_per_delivery_without_a_traceback",
    "tests/county/test_hostile_input.py::test_a_node_clock_ahead_is_retried_under_a_larger_max_clock_ahead",
    "tests/unit/test_bounds.py::test_an_envelope_beyond_its_bounds_does_not_decode",
    "tests/unit/test_bounds.py::test_a_control_character_in_text_is_refused_at_the_node_and_at_the_county_alike",
    "tests/unit/test_bounds.py::test_the_reasons_docs_list_are_the_reasons_ingest_gives",
    "tests/integration/test_node_bounds.py::test_a_hostile_value_is_a_4xx_naming_the_field_and_the_node_records_on",
    "tests/integration/test_node_bounds.py::test_a_batch_with_one_control_character_appends_nothing",
    "tests/integration/test_node_bounds.py::test_the_page_check_answers_a_deep_or_hostile_body_naming_the_field",
    "tests/integration/test_node_bounds.py::test_json_lines_split_only_at_newlines",
    "tests/integration/test_node_bounds.py::test_a_deep_line_and_a_huge_csv_cell_are_refused_by_line_not_by_a_500",
    "tests/integration/test_node_bounds.py::test_a_workbook_is_read_within_its_row_and_column_caps",
    "tests/e2e/test_node_cli_bounds.py::test_a_hostile_value_exits_2_naming_the_field_and_appends_nothing",
    "tests/e2e/test_node_cli_bounds.py::test_import_splits_json_lines_at_newlines_only",
    "tests/e2e/test_node_cli_bounds.py::test_import_refuses_a_huge_csv_cell_and_a_c1_character_by_line",
    "tests/county/test_hostile_property.py::test_hostile_messages_among_good_ones_are_refused_on_first_sight_alike_on_both_databases",
    "tests/county/test_key_ownership.py::test_a_node_cannot_rotate_to_another_nodes_key",
    "tests/county/test_key_ownership.py::test_a_rotation_to_a_key_of_its_own_past_is_refused_and_a_fresh_one_is_followed",
)


def test_every_proof_of_guarantee_7_exists() -> None:
    assert missing(PROOFS) == []
