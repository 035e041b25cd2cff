"""Guarantee 8 — conflicts surface: facts that cannot both be true (one person registered at two
outstations, a member returned and moved on the same day by two nodes) are listed as conflicts,
never silently resolved or double-counted."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/unit/test_entities.py::test_double_registration_and_contradictory_same_day_changes_are_conflicts",
    "tests/county/test_ingest.py::test_a_double_registration_is_a_conflict_and_the_person_counts_once",
    "tests/county/test_api_queries.py::test_conflicts_and_quarantine",
)


def test_every_proof_of_guarantee_8_exists() -> None:
    assert missing(PROOFS) == []
