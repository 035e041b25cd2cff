"""Guarantee 6 — tamper evidence: any edit, deletion, insertion or reordering in the archive or in an
export is detected, and the first bad link named."""

from __future__ import annotations

from tests.guarantees.proofs import missing

PROOFS = (
    "tests/unit/test_chain.py::test_tampering_is_detected_at_the_first_bad_link",
    "tests/unit/test_chain.py::test_swapped_envelopes_are_both_named",
    "tests/unit/test_chain.py::test_a_deletion_is_reported_once",
    "tests/unit/test_chain.py::test_reordering_is_reported_without_a_spurious_missing_envelope",
    "tests/unit/test_chain.py::test_a_key_switch_the_chain_did_not_announce_is_caught_even_if_enrolled",
    "tests/unit/test_chain.py::test_deleted_and_reordered_lines_are_detected",
    "tests/integration/test_node_log.py::test_verify_names_the_seq_of_a_tampered_envelope",
    "tests/county/test_audit_integrity.py::test_tampering_with_the_archive_is_named_by_node_seq_and_reason",
    "tests/county/test_audit_integrity.py::test_a_forger_key_slipped_into_node_keys_is_named_even_where_the_chain_holds",
    "tests/county/test_audit_integrity.py::test_an_acknowledged_envelope_altered_and_re_signed_contradicts_its_receipt",
    "tests/county/test_audit_integrity.py::test_tampering_with_an_export_is_named_by_node_seq_and_reason",
    "tests/county/test_audit_integrity.py::test_a_truncated_export_without_its_receipts_is_caught_by_the_nodes_receipts",
    "tests/unit/test_envelope_doc.py::test_snippet_rejects_a_tampered_copy",
    "tests/e2e/test_audit_cli.py::test_verify_passes_an_intact_archive_and_names_each_fault_after_tampering",
)


def test_every_proof_of_guarantee_6_exists() -> None:
    assert missing(PROOFS) == []
