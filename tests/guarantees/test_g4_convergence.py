"""Guarantee 4 — convergence: the same set of events yields byte-identical business projections
whatever order they arrive in; business facts are ordered by (occurred_at, node_id, seq)."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/county/test_convergence.py::test_any_interleaving_and_any_delay_gives_the_same_digest",
    "tests/unit/test_entities.py::test_status_follows_business_time_not_arrival",
    "tests/unit/test_entities.py::test_events_dated_before_the_registration_are_ignored",
    "tests/unit/test_entities.py::test_the_timeline_holds_each_state_over_business_time",
    "tests/unit/test_projection_registry.py::test_each_table_belongs_to_one_projection_and_the_digest_order_is_unchanged",
    "tests/county/test_authority.py::test_the_verdicts_converge_in_any_arrival_order",
    "tests/unit/test_authority_rules.py::test_a_member_is_spoken_for_by_the_registrant_and_from_a_move_on_by_the_new_outstation",
)


def test_every_proof_of_guarantee_4_exists() -> None:
    assert missing(PROOFS) == []
