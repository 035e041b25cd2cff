"""Guarantee 3 — gap-free per node: seq is contiguous per node from 1; the county applies a node's
events in seq order, holds an event after a gap (not projected) until the gap fills, and shows
the gap in node health. The same rule cuts a node's chain in a `known_at` replay."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/unit/test_chain.py::test_chain_links_and_numbering",
    "tests/county/test_ingest.py::test_an_envelope_after_a_gap_is_held_then_projected",
    "tests/county/test_ingest.py::test_a_key_rotated_in_the_chain_is_followed_even_when_later_envelopes_come_first",
    "tests/county/test_ingest_nats.py::test_raw_publishes_out_of_order_and_garbage_are_held_or_quarantined",
    "tests/county/test_api_queries.py::test_node_health_shows_the_gap_until_it_fills",
    "tests/county/test_point_in_time.py::test_known_at_counts_held_and_quarantined_envelopes_from_when_they_were_projected",
)


def test_every_proof_of_guarantee_3_exists() -> None:
    assert missing(PROOFS) == []
