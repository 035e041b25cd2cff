"""Which receipts an export answers for (services/county/audit/export_manifest.Scope): a cut is a
cut only where the county-signed selection asked for one; a receipt the county issued after it
made the export, or one below the exported range, is out of scope; an unsigned manifest grants
no cut at all. Each rule on a hand-made manifest, with receipts at the edges of each rule."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.county.audit.export_manifest import Manifest, Scope
from services.county.audit.report import Fault
from shared import receipt
from shared.signing import Signer

KEY = Signer.from_seed_hex("c2" * 32)
MADE = "2026-03-02T00:00:00.000000Z"
"""When the export was made."""


def manifest(selection: dict[str, Any], *, first: int = 1, last: int = 10, head: int = 20) -> Manifest:
    key = {"key_id": KEY.key_id, "public_key": KEY.public_key_hex}
    node = {
        "count": last - first + 1, "first_seq": first, "last_seq": last, "head_hash": "a" * 64,
        "first_key": key, "anchor": {**key, "seq": first - 1, "hash": "0" * 64},
        "archive_head_seq": head, "archive_head_hash": "a" * 64 if last == head else "b" * 64,
    }  # fmt: skip
    value = {
        "format": "tongxin-audit-export", "version": 2, "county_id": "jx", "created_at": MADE,
        "selection": {"nodes": None, "from_seq": None, "to_seq": None, "from": None, "to": None} | selection,
        "nodes": {"dongguan": node}, "files": {},
    }  # fmt: skip
    return msgspec.convert(value, Manifest)


def at(
    seq: int, *, received: str = "2026-03-01T10:00:00.000000Z", issued: str = MADE, node: str = "dongguan"
) -> receipt.Receipt:
    return receipt.issue(
        KEY, county_id="jx", node_id=node, seq=seq, hash="c" * 64, received_at=received, issued_at=issued
    )


UNBOUNDED: dict[str, Any] = {}
CASES = [
    # (selection, receipt, in scope?)
    (UNBOUNDED, at(10), True),
    (UNBOUNDED, at(15), True),
    (UNBOUNDED, at(15, issued="2026-03-02T00:00:00.000001Z"), False),
    ({"to_seq": 12}, at(12), True),
    ({"to_seq": 12}, at(13), False),
    ({"to": "2026-03-01"}, at(15, received="2026-03-01T15:59:59.999999Z"), True),
    ({"to": "2026-03-01"}, at(15, received="2026-03-01T16:00:00.000000Z"), False),
    (UNBOUNDED, at(3, node="huadu"), True),
    ({"nodes": ["dongguan"]}, at(3, node="huadu"), False),
    ({"from_seq": 5}, at(3, node="huadu"), False),
    ({"to": "2026-03-01"}, at(3, node="huadu"), False),
]


@pytest.mark.parametrize(("selection", "r", "expected"), CASES)
def test_a_signed_selection_decides_which_receipts_the_export_answers_for(
    selection: dict[str, Any], r: receipt.Receipt, expected: bool
) -> None:
    assert Scope(manifest(selection), signed=True)(r) is expected


def test_below_the_range_is_out_of_scope_and_an_unsigned_manifest_grants_no_cut() -> None:
    cut = manifest({"from_seq": 5, "to_seq": 12}, first=5, last=12)
    assert Scope(cut, signed=True)(at(4)) is False
    assert Scope(cut, signed=True)(at(5)) is True
    unsigned = Scope(cut, signed=False)
    assert [unsigned(at(s)) for s in (4, 5, 13, 19)] == [False, True, True, True]
    assert unsigned(at(3, node="huadu")) is False


def test_a_signed_manifest_that_contradicts_its_own_selection_is_named() -> None:
    def faults(selection: dict[str, Any], **node: int) -> list[Fault]:
        return list(Scope(manifest(selection, **node), signed=True).faults())

    assert faults(UNBOUNDED, last=20) == []
    assert faults({"to_seq": 12}, last=12) == faults({"to_seq": 30}, last=20) == []
    assert faults({"to": "2026-03-01"}, last=10) == []
    (early,) = faults(UNBOUNDED, last=10)
    assert (early.node_id, early.seq) == ("dongguan", 10) and "asks for seqs up to 20" in early.reason
    (late,) = faults({"from_seq": 3}, first=4, last=20)
    assert late.seq == 4 and late.reason == "the selection asks for seq 3 on, the export starts at seq 4"
    (nodes,) = faults({"nodes": ["dongguan", "huadu"]}, last=20)
    assert nodes == Fault(
        "export", 0, "the selection asks for nodes dongguan, huadu, the manifest lists dongguan"
    )
