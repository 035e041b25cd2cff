"""Guarantee 5 — replay equality: rebuilding every projection from the archive gives the same
digest as the live ones (and a replay up to a business time the same as-of digest)."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/county/test_point_in_time.py::test_full_replay_equals_live_digest",
    "tests/county/test_point_in_time.py::test_as_of_digest_of_the_timeline_equals_a_replay_up_to_then",
    "tests/county/test_point_in_time.py::test_as_of_now_equals_live",
    "tests/county/test_convergence.py::test_any_interleaving_and_any_delay_gives_the_same_digest",
    "tests/county/test_ingest_nats.py::test_three_nodes_forward_and_the_county_ingests_everything_once",
    "tests/unit/test_projection_registry.py::test_every_catalog_type_is_claimed_by_a_projection_or_marked_archive_only",
    "tests/county/test_authority.py::test_out_of_turn_events_are_archived_listed_and_not_projected",
    "tests/county/test_corrections.py::test_rebuild_and_replay_give_the_live_digest_and_as_of_digests",
    "tests/unit/test_corrections.py::test_the_timeline_shows_the_original_until_the_correction_and_the_correction_after",
)


def test_every_proof_of_guarantee_5_exists() -> None:
    assert missing(PROOFS) == []
