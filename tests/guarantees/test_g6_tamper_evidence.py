"""Guarantee 6 — tamper evidence: any edit, deletion, insertion or reordering in the archive or in an
export is detected, and the first bad link named; an export's signed manifest holds it to the scope
its selection asked for, so a cut nobody asked for is caught."""

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
    # a signed export (issue 13): a cut only where the signed selection asked for one
    "tests/county/test_signed_export.py::test_the_issues_truncation_with_every_unsigned_field_fixed_up_no_longer_verifies",
    "tests/county/test_signed_export.py::test_a_county_that_signs_a_cut_nobody_asked_for_is_caught_by_its_selection_and_receipts",
    "tests/county/test_signed_export.py::test_the_manifest_signature_is_checked_first_and_refused_when_tampered_edited_missing_or_foreign",
    "tests/county/test_signed_export.py::test_a_cut_the_signed_selection_asked_for_verifies_with_every_receipt_the_nodes_hold",
    "tests/county/test_signed_export.py::test_a_receipt_the_county_issued_after_the_export_was_made_is_no_fault",
    "tests/county/test_signed_export.py::test_export_refuses_a_county_id_or_key_that_is_not_the_archives",
    "tests/unit/test_export_scope.py::test_a_signed_selection_decides_which_receipts_the_export_answers_for",
    "tests/unit/test_export_scope.py::test_a_signed_manifest_that_contradicts_its_own_selection_is_named",
    "tests/e2e/test_signed_export_cli.py::test_verify_refuses_the_issues_truncation_and_an_unsigned_export",
    "tests/e2e/test_signed_export_cli.py::test_export_refuses_a_county_id_that_is_not_the_countys",
    # strict text: a line no reader may read two ways, a line no node can have signed
    "tests/county/test_signed_export.py::test_an_envelope_line_with_a_repeated_key_is_a_fault_naming_the_line",
    "tests/county/test_signed_export.py::test_a_receipt_line_with_a_repeated_key_is_a_fault_naming_the_line",
    "tests/county/test_signed_export.py::test_node_receipts_are_split_at_newlines_only_and_a_repeated_key_is_refused_naming_the_line",
    "tests/county/test_signed_export.py::test_a_lone_surrogate_escape_is_an_altered_envelope_at_its_node_and_seq",
    "tests/county/test_signed_export.py::test_a_line_that_is_not_utf_8_or_nests_past_any_parser_is_a_fault_not_a_crash",
    # the verifiers printed in the docs, run as printed on every text edge case
    "tests/e2e/test_audit_verifier_page.py::test_the_page_verifier_verifies_a_real_export_holding_every_text_edge_case",
    "tests/e2e/test_audit_verifier_page.py::test_the_page_verifier_catches_the_issues_truncation_and_lines_no_node_signed",
    "tests/unit/test_envelope_doc_text.py::test_the_example_call_verifies_a_chain_holding_every_text_edge_case",
)


def test_every_proof_of_guarantee_6_exists() -> None:
    assert missing(PROOFS) == []
