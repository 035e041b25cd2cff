"""Sealing one member's personal data (shared.personal): what opens, what does not, masking."""

from __future__ import annotations

import msgspec
import pytest
from nacl.exceptions import CryptoError

from shared.catalog.base import Personal
from shared.personal import (
    MemberKey,
    SealError,
    mask_id_number,
    mask_phone,
    new_member_id,
    seal,
    unseal,
)
from shared.signing import Signer, Verifier, seal_for

CLEAR = Personal(name="张三", id_number="11010519491231002X", phone="13812345678")


def test_a_sealed_personal_holds_nothing_in_clear_and_opens_only_as_sealed() -> None:
    key, member = MemberKey.new(), new_member_id()
    sealed = seal(CLEAR, key, member)
    wire = msgspec.json.encode(sealed)
    for clear in ("张三".encode(), b"11010519491231002X", b"13812345678", "张三".encode("unicode_escape")):
        assert clear not in wire
    assert sealed.sealed is not None and sealed.sealed.key_id == key.key_id
    assert unseal(msgspec.json.decode(wire, type=Personal), key.key, member) == CLEAR
    assert seal(CLEAR, key, member) != sealed  # a fresh nonce each time


def test_a_box_does_not_open_for_another_member_key_or_byte() -> None:
    key, member = MemberKey.new(), new_member_id()
    sealed = seal(CLEAR, key, member)
    assert sealed.sealed is not None
    with pytest.raises(SealError):
        unseal(sealed, key.key, new_member_id())  # moved to another member
    with pytest.raises(SealError):
        unseal(sealed, MemberKey.new().key, member)
    box = bytearray(sealed.sealed.box.encode())
    box[5] = ord("A") if box[5] != ord("A") else ord("B")
    tampered = Personal(sealed=msgspec.structs.replace(sealed.sealed, box=box.decode()))
    with pytest.raises(SealError):
        unseal(tampered, key.key, member)


def test_the_two_forms_do_not_mix() -> None:
    sealed = seal(CLEAR, MemberKey.new(), new_member_id())
    with pytest.raises(msgspec.ValidationError, match="sealed"):
        msgspec.convert({"name": "张三", "sealed": msgspec.to_builtins(sealed.sealed)}, Personal)
    with pytest.raises(msgspec.ValidationError, match="id_number"):
        msgspec.convert({"name": "张三"}, Personal)


def test_masks_and_ids() -> None:
    assert mask_id_number("431102198807010898") == "4311**********0898"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number(None) is None and mask_phone(None) is None
    ids = {new_member_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 for i in ids)


def test_a_key_sealed_to_the_county_opens_with_the_county_key_only() -> None:
    county, other = Signer.generate(), Signer.generate()
    key = MemberKey.new()
    box = seal_for(county.public_key, key.key)
    assert county.unseal(box) == key.key
    with pytest.raises(CryptoError):
        other.unseal(box)


def test_an_erasure_notice_is_signed_bounded_and_not_a_resend_request() -> None:
    from shared import repair
    from shared.errors import FieldError
    from shared.personal import MAX_ERASED_PER_NOTICE, ErasureNotice, decode_notice

    county = Signer.generate()
    notice = repair.sign(
        ErasureNotice(at=repair.now_text(), county_id="jx", node_id="dongguan", erased=[new_member_id()]),
        county,
    )
    data = msgspec.json.encode(notice)
    back = decode_notice(data)
    assert back == notice and back.fresh() and back.signed_by(Verifier(county.public_key))
    assert not back.signed_by(Verifier(Signer.generate().public_key))
    with pytest.raises(FieldError, match="request"):
        repair.decode_request(data)  # the node tells the two apart by decoding
    too_many = msgspec.json.encode(
        {**msgspec.to_builtins(notice), "erased": [new_member_id() for _ in range(MAX_ERASED_PER_NOTICE + 1)]}
    )
    with pytest.raises(FieldError, match=r"notice\.erased"):
        decode_notice(too_many)
