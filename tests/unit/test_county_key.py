"""County key handovers and co-signed receipts (shared/county_key.py, shared/receipt.py)."""

from __future__ import annotations

import msgspec

from shared import county_key, receipt
from shared.county_key import CountyKeys
from shared.signing import Signer, Verifier

OLD, NEW, OTHER = (Signer.from_seed_hex(c * 32) for c in ("a1", "b2", "c3"))
MADE, UNTIL = "2026-05-01T00:00:00.000000Z", "2026-05-08T00:00:00.000000Z"


def _handover(prev: Signer | None = OLD) -> county_key.Handover:
    return county_key.hand_over(
        prev, NEW, prev_public_key=OLD.public_key_hex, county_id="jx", made_at=MADE, overlap_until=UNTIL
    )


def _receipt(signer: Signer, issued_at: str, cosigners: tuple[Signer, ...] = ()) -> receipt.Receipt:
    return receipt.issue(
        signer,
        cosigners=cosigners,
        county_id="jx",
        node_id="dongguan",
        seq=3,
        hash="ab" * 32,
        received_at=MADE,
        issued_at=issued_at,
    )


def test_a_handover_is_signed_by_both_keys_and_survives_its_wire_form() -> None:
    h = _handover()
    assert h.signed_by_prev() and h.signed_by_new()
    again = county_key.decode(county_key.encode(h))
    assert again == h and again.signed_by_prev()
    moved = msgspec.structs.replace(h, overlap_until="2027-01-01T00:00:00.000000Z")
    assert not moved.signed_by_prev() and not moved.signed_by_new(), "the overlap is signed"
    compromised = _handover(None)
    assert compromised.compromised and compromised.prev_sig is None and not compromised.signed_by_prev()
    assert compromised.signed_by_new() and compromised.overlap_until == MADE


def test_a_co_signed_receipt_verifies_under_either_key_and_keeps_its_plain_wire_form() -> None:
    r = _receipt(NEW, "2026-05-02T00:00:00.000000Z", (OLD,))
    assert r.signed_by([Verifier(OLD.public_key)]) is not None
    assert r.signed_by([Verifier(NEW.public_key)]) is not None
    assert r.signed_by([Verifier(OTHER.public_key)]) is None
    assert receipt.decode(receipt.encode(r)) == r
    plain = _receipt(OLD, MADE)
    assert b"cosigs" not in receipt.encode(plain) and b"handovers" not in receipt.encode(plain)


def test_an_auditor_follows_handovers_from_either_key_within_each_keys_time() -> None:
    h = _handover()
    from_new = CountyKeys([Verifier(NEW.public_key)], [h])
    from_old = CountyKeys([Verifier(OLD.public_key)], [h])
    during, after = "2026-05-03T00:00:00.000000Z", "2026-05-09T00:00:00.000000Z"
    for keys in (from_new, from_old):
        assert _receipt(OLD, during).verify(keys) and _receipt(NEW, after).verify(keys)
        assert not _receipt(OLD, after).verify(keys), "the old key signs nothing after the overlap"
        assert not _receipt(OTHER, during).verify(keys)
    problem = from_new.problem(OLD.key_id, after, _receipt(OLD, after).digest(), _receipt(OLD, after).sig)
    assert problem is not None and "after it was handed over" in problem
    compromised = CountyKeys([Verifier(OLD.public_key)], [_handover(None)])
    assert compromised.get(NEW.key_id) is None, "from a compromised key nothing leads forward"
    back = CountyKeys([Verifier(NEW.public_key)], [_handover(None)])
    assert _receipt(OLD, MADE).verify(back) and not _receipt(OLD, during).verify(back)
    forged = msgspec.structs.replace(h, sig=OTHER.sign(h.digest()).hex())
    assert CountyKeys([Verifier(OLD.public_key)], [forged]).get(NEW.key_id) is None
