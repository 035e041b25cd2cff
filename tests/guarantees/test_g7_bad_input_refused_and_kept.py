"""Guarantee 7 — bad input is refused clearly and kept: malformed, unknown-type, unsigned or
wrongly-signed, future-versioned or unknown-node messages never reach a projection; they go to
quarantine with the reason and can be re-processed; a bad HTTP request gets a 4xx naming the
field and nothing is half-written."""

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
)


def test_every_proof_of_guarantee_7_exists() -> None:
    assert missing(PROOFS) == []
