"""Tamper evidence (DESIGN.md §3.6): any edit, deletion, insertion or reordering of a node's
envelopes is detected, and the first fault names the node and the seq of the first bad link."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import msgspec
import pytest

from shared.catalog import convert_payload
from shared.chain import ChainFault, ChainVerifier, KeyLookup, single_key, verify_chain
from shared.envelope import (
    GENESIS_HASH,
    Envelope,
    body_of,
    canonical,
    decode,
    encode,
    hash_body,
    sign,
)
from shared.errors import FieldError
from shared.signing import Signer, Verifier

DONGGUAN = Signer.from_seed_hex(bytes(range(1, 33)).hex())
HUADU = Signer.from_seed_hex(bytes(range(33, 65)).hex())
FOREIGN = Signer.from_seed_hex(bytes(range(65, 97)).hex())
START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
LENGTH = 20
TAMPERED = 7
"""The dongguan seq that most cases tamper with."""


def build_chain(node_id: str, signer: Signer, length: int, *, first_amount: int) -> list[Envelope]:
    envelopes: list[Envelope] = []
    prev_hash = GENESIS_HASH
    for seq in range(1, length + 1):
        if seq % 5 == 0:
            payload = {"org_id": node_id, "amount_fen": first_amount + seq, "purpose": "活动经费"}
            body = convert_payload("fund.spent", payload)
        else:
            payload = {
                "org_id": node_id,
                "source": "member_donation",
                "amount_fen": first_amount + seq,
                "note": f"第{seq}笔党员捐款",
            }
            body = convert_payload("fund.received", payload)
        at = START + timedelta(hours=seq)
        env = sign(
            node_id=node_id,
            seq=seq,
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{node_id}/{seq}")),
            body=body,
            occurred_at=at,
            recorded_at=at + timedelta(seconds=3),
            prev_hash=prev_hash,
            signer=signer,
        )
        envelopes.append(env)
        prev_hash = env.hash
    return envelopes


DONGGUAN_CHAIN = build_chain("dongguan", DONGGUAN, LENGTH, first_amount=50_000)
HUADU_CHAIN = build_chain("huadu", HUADU, LENGTH // 2, first_amount=80_000)


def archive() -> list[Envelope]:
    """Both nodes' envelopes interleaved, as they arrive at the county."""
    mixed: list[Envelope] = []
    for i, env in enumerate(DONGGUAN_CHAIN):
        mixed.append(env)
        if i % 2 == 1:
            mixed.append(HUADU_CHAIN[i // 2])
    assert len(mixed) == LENGTH + LENGTH // 2
    return mixed


ENROLLED = {
    ("dongguan", DONGGUAN.key_id): Verifier(DONGGUAN.public_key),
    ("huadu", HUADU.key_id): Verifier(HUADU.public_key),
}


def enrolled(node_id: str, key_id: str) -> Verifier | None:
    return ENROLLED.get((node_id, key_id))


def position(envelopes: list[Envelope], node_id: str, seq: int) -> int:
    return next(i for i, e in enumerate(envelopes) if (e.node_id, e.seq) == (node_id, seq))


def with_payload(env: Envelope, **changes: object) -> Envelope:
    payload = {**json.loads(bytes(env.payload)), **changes}
    return msgspec.structs.replace(env, payload=msgspec.Raw(json.dumps(payload, ensure_ascii=False).encode()))


def rehashed(env: Envelope) -> Envelope:
    return msgspec.structs.replace(env, hash=hash_body(body_of(env)))


def signed(env: Envelope, signer: Signer) -> Envelope:
    """`env` with its hash recomputed and signed by `signer` (someone holding that key)."""
    env = rehashed(env)
    return msgspec.structs.replace(env, sig=signer.sign(bytes.fromhex(env.hash)).hex(), key_id=signer.key_id)


def replace_at(envelopes: list[Envelope], seq: int, new: Envelope) -> list[Envelope]:
    i = position(envelopes, "dongguan", seq)
    return [*envelopes[:i], new, *envelopes[i + 1 :]]


def dongguan(seq: int) -> Envelope:
    return DONGGUAN_CHAIN[seq - 1]


# --- the untouched archive ------------------------------------------------------------------


def test_intact_archive_has_no_faults() -> None:
    assert verify_chain(archive(), enrolled) == []


def test_intact_wire_export_has_no_faults() -> None:
    lines = [encode(e) for e in archive()]
    assert verify_chain([decode(line) for line in lines], enrolled) == []


def test_chain_links_and_numbering() -> None:
    assert dongguan(1).prev_hash == GENESIS_HASH == "0" * 64
    for before, after in pairwise(DONGGUAN_CHAIN):
        assert after.seq == before.seq + 1
        assert after.prev_hash == before.hash


def test_a_node_checks_its_own_log_with_its_single_key() -> None:
    assert verify_chain(DONGGUAN_CHAIN, single_key(Verifier(DONGGUAN.public_key))) == []
    faults = verify_chain(HUADU_CHAIN, single_key(Verifier(DONGGUAN.public_key)))
    assert faults[0] == ChainFault("huadu", 1, faults[0].reason)
    assert "unknown key" in faults[0].reason


# --- tampering with envelopes -----------------------------------------------------------------


def altered_same_hash(envelopes: list[Envelope]) -> list[Envelope]:
    return replace_at(envelopes, TAMPERED, with_payload(dongguan(TAMPERED), amount_fen=1))


def altered_and_rehashed(envelopes: list[Envelope]) -> list[Envelope]:
    return replace_at(envelopes, TAMPERED, rehashed(with_payload(dongguan(TAMPERED), amount_fen=1)))


def altered_and_resigned_with_the_node_key(envelopes: list[Envelope]) -> list[Envelope]:
    forged = signed(with_payload(dongguan(TAMPERED), amount_fen=1), DONGGUAN)
    return replace_at(envelopes, TAMPERED, forged)


def time_moved(envelopes: list[Envelope]) -> list[Envelope]:
    moved = msgspec.structs.replace(dongguan(TAMPERED), occurred_at="2026-02-01T01:00:00.000000Z")
    return replace_at(envelopes, TAMPERED, moved)


def relabelled_to_another_node(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "huadu", 4)
    stolen = msgspec.structs.replace(envelopes[i], node_id="dongguan", seq=TAMPERED)
    return replace_at(envelopes, TAMPERED, stolen)


def deleted(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "dongguan", TAMPERED)
    return [*envelopes[:i], *envelopes[i + 1 :]]


def deleted_first(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "dongguan", 1)
    return [*envelopes[:i], *envelopes[i + 1 :]]


def inserted_forgery_with_a_foreign_key(envelopes: list[Envelope]) -> list[Envelope]:
    forged = signed(
        msgspec.structs.replace(
            with_payload(dongguan(TAMPERED + 1), amount_fen=9_999_900),
            prev_hash=dongguan(TAMPERED).hash,
        ),
        FOREIGN,
    )
    i = position(envelopes, "dongguan", TAMPERED)
    return [*envelopes[: i + 1], forged, *envelopes[i + 1 :]]


def inserted_forgery_with_the_node_key(envelopes: list[Envelope]) -> list[Envelope]:
    """A perfectly linked and signed forgery: the real envelope after it no longer fits."""
    forged = signed(
        msgspec.structs.replace(
            with_payload(dongguan(TAMPERED + 1), amount_fen=9_999_900),
            prev_hash=dongguan(TAMPERED).hash,
        ),
        DONGGUAN,
    )
    i = position(envelopes, "dongguan", TAMPERED)
    return [*envelopes[: i + 1], forged, *envelopes[i + 1 :]]


def inserted_duplicate(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "dongguan", TAMPERED)
    return [*envelopes[: i + 1], envelopes[i], *envelopes[i + 1 :]]


def swapped_adjacent(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "dongguan", TAMPERED)
    j = position(envelopes, "dongguan", TAMPERED + 1)
    swapped = list(envelopes)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    return swapped


def relinked(envelopes: list[Envelope]) -> list[Envelope]:
    """prev_hash pointed elsewhere, re-hashed and re-signed with the node's own key."""
    forged = signed(msgspec.structs.replace(dongguan(TAMPERED), prev_hash=dongguan(3).hash), DONGGUAN)
    return replace_at(envelopes, TAMPERED, forged)


def resigned_with_a_foreign_key(envelopes: list[Envelope]) -> list[Envelope]:
    return replace_at(envelopes, TAMPERED, signed(dongguan(TAMPERED), FOREIGN))


def signature_swapped(envelopes: list[Envelope]) -> list[Envelope]:
    borrowed = msgspec.structs.replace(dongguan(TAMPERED), sig=dongguan(TAMPERED + 1).sig)
    return replace_at(envelopes, TAMPERED, borrowed)


Tamper = Callable[[list[Envelope]], list[Envelope]]

CASES: list[tuple[Tamper, int, str]] = [
    # (tampering, seq of the first fault at node dongguan, word its reason must contain)
    (altered_same_hash, TAMPERED, "altered"),
    (altered_and_rehashed, TAMPERED, "signature"),
    (altered_and_resigned_with_the_node_key, TAMPERED + 1, "link"),
    (time_moved, TAMPERED, "altered"),
    (relabelled_to_another_node, TAMPERED, "altered"),
    (deleted, TAMPERED + 1, "missing"),
    (deleted_first, 2, "missing"),
    (inserted_forgery_with_a_foreign_key, TAMPERED + 1, "key"),
    (inserted_forgery_with_the_node_key, TAMPERED + 1, "order"),
    (inserted_duplicate, TAMPERED, "repeated"),
    (swapped_adjacent, TAMPERED + 1, f"expected seq {TAMPERED}"),
    (relinked, TAMPERED, "link"),
    (resigned_with_a_foreign_key, TAMPERED, "unknown key"),
    (signature_swapped, TAMPERED, "signature"),
]


@pytest.mark.parametrize(("tamper", "seq", "word"), [pytest.param(*c, id=c[0].__name__) for c in CASES])
def test_tampering_is_detected_at_the_first_bad_link(tamper: Tamper, seq: int, word: str) -> None:
    faults = verify_chain(tamper(archive()), enrolled)

    assert faults, "tampering went unnoticed"
    first = faults[0]
    assert (first.node_id, first.seq) == ("dongguan", seq)
    assert word in first.reason
    assert str(first).startswith(f"dongguan seq {seq}: ")
    assert {f.node_id for f in faults} == {"dongguan"}, "the other node's chain is unaffected"


@pytest.mark.parametrize(("tamper", "seq", "word"), [pytest.param(*c, id=c[0].__name__) for c in CASES])
def test_tampering_survives_the_wire(tamper: Tamper, seq: int, word: str) -> None:
    """Exported as JSON lines and read back, the same fault is found."""
    lines = [encode(e) for e in tamper(archive())]
    faults = verify_chain([decode(line) for line in lines], enrolled)
    assert (faults[0].node_id, faults[0].seq) == ("dongguan", seq)
    assert word in faults[0].reason


def test_swapped_envelopes_are_both_named() -> None:
    faults = verify_chain(swapped_adjacent(archive()), enrolled)
    assert (faults[0].seq, "missing" in faults[0].reason) == (TAMPERED + 1, True)
    assert (faults[1].seq, "out of order" in faults[1].reason) == (TAMPERED, True)


def test_a_deletion_is_reported_once() -> None:
    faults = verify_chain(deleted(archive()), enrolled)
    assert faults == [ChainFault("dongguan", TAMPERED + 1, faults[0].reason)]
    assert f"expected seq {TAMPERED}, found {TAMPERED + 1}" in faults[0].reason


def test_an_edit_with_the_hash_kept_is_reported_once() -> None:
    faults = verify_chain(altered_same_hash(archive()), enrolled)
    assert [(f.node_id, f.seq) for f in faults] == [("dongguan", TAMPERED)]


def test_an_adjacent_duplicate_is_reported_once() -> None:
    faults = verify_chain(inserted_duplicate(archive()), enrolled)
    assert [(f.node_id, f.seq) for f in faults] == [("dongguan", TAMPERED)]


def replayed_old_envelope(envelopes: list[Envelope]) -> list[Envelope]:
    i = position(envelopes, "dongguan", 12)
    return [*envelopes[: i + 1], dongguan(3), *envelopes[i + 1 :]]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        pytest.param(replayed_old_envelope, [3], id="replayed-old-envelope"),
        pytest.param(swapped_adjacent, [TAMPERED + 1, TAMPERED], id="swapped"),
    ],
)
def test_reordering_is_reported_without_a_spurious_missing_envelope(
    tamper: Tamper, expected: list[int]
) -> None:
    faults = verify_chain(tamper(archive()), enrolled)
    assert [f.seq for f in faults] == expected


def test_key_lookup_mapping_the_key_id_to_the_wrong_public_key() -> None:
    """The enrolment says the foreign key id belongs to dongguan's public key: no signature fits."""
    confused: KeyLookup = lambda node, key_id: (  # noqa: E731
        Verifier(DONGGUAN.public_key) if key_id == FOREIGN.key_id else enrolled(node, key_id)
    )
    faults = verify_chain(resigned_with_a_foreign_key(archive()), confused)
    assert (faults[0].node_id, faults[0].seq) == ("dongguan", TAMPERED)
    assert "signature does not verify" in faults[0].reason
    assert FOREIGN.key_id in faults[0].reason


def switched_keys(*, announce: bool) -> list[Envelope]:
    """Dongguan's chain signed by FOREIGN after seq TAMPERED; with `announce`, seq TAMPERED is
    the node.key_rotated envelope (signed by the old key) that names FOREIGN."""
    chain = [*DONGGUAN_CHAIN[: TAMPERED - 1]]
    rotation = dongguan(TAMPERED)
    if announce:
        payload = {
            "new_key_id": FOREIGN.key_id,
            "new_public_key": FOREIGN.public_key_hex,
            "type": "node.key_rotated",
        }
        rotation = msgspec.structs.replace(
            rotation, type="node.key_rotated", payload=msgspec.Raw(canonical(payload))
        )
    chain.append(signed(msgspec.structs.replace(rotation, prev_hash=chain[-1].hash), DONGGUAN))
    for env in DONGGUAN_CHAIN[TAMPERED:]:
        chain.append(signed(msgspec.structs.replace(env, prev_hash=chain[-1].hash), FOREIGN))
    return chain


def test_a_key_rotated_inside_the_chain_verifies_from_the_next_seq() -> None:
    assert verify_chain(switched_keys(announce=True), enrolled) == []


def test_a_key_switch_the_chain_did_not_announce_is_caught_even_if_enrolled() -> None:
    """E.g. an archive whose key row for a rotated key was replaced by a forger's key."""
    both = {**ENROLLED, ("dongguan", FOREIGN.key_id): Verifier(FOREIGN.public_key)}
    faults = verify_chain(switched_keys(announce=False), lambda n, k: both.get((n, k)))
    assert faults[0].seq == TAMPERED + 1 and "the chain designates" in faults[0].reason
    faults = verify_chain(switched_keys(announce=False), enrolled)
    assert (faults[0].seq, "unknown key" in faults[0].reason) == (TAMPERED + 1, True)


def test_a_truncated_tail_is_a_valid_prefix_whose_end_shows_the_loss() -> None:
    """Cutting off the newest envelopes leaves a valid chain; the auditor compares its head
    with the node's last seq."""
    checker = ChainVerifier("dongguan", enrolled)
    kept = DONGGUAN_CHAIN[:15]
    assert [checker.check(e) for e in kept] == [None] * 15
    assert (checker.last_seq, checker.last_hash) == (15, dongguan(15).hash)
    assert checker.last_seq < LENGTH


def test_a_chain_verifier_resumes_from_a_known_head() -> None:
    checker = ChainVerifier("dongguan", enrolled, last_seq=10, last_hash=dongguan(10).hash)
    assert all(checker.check(e) is None for e in DONGGUAN_CHAIN[10:])
    late = ChainVerifier("dongguan", enrolled, last_seq=10, last_hash=dongguan(9).hash)
    fault = late.check(dongguan(11))
    assert fault is not None and fault.seq == 11 and "link" in fault.reason


def test_a_chain_verifier_refuses_another_nodes_envelope() -> None:
    fault = ChainVerifier("dongguan", enrolled).check(HUADU_CHAIN[0])
    assert fault is not None and (fault.node_id, fault.seq) == ("dongguan", 1)
    assert "huadu" in fault.reason


# --- tampering with the wire bytes ------------------------------------------------------------


def wire_lines() -> list[bytes]:
    return [encode(e) for e in archive()]


def tamper_line(seq: int, old: bytes, new: bytes) -> list[bytes]:
    lines = wire_lines()
    i = position(archive(), "dongguan", seq)
    assert lines[i].count(old) == 1, (old, lines[i])
    lines[i] = lines[i].replace(old, new)
    return lines


def faults_of(lines: list[bytes]) -> list[ChainFault]:
    return verify_chain([decode(line) for line in lines], enrolled)


@pytest.mark.parametrize(
    ("old", "new", "seq", "word"),
    [
        pytest.param(b'"amount_fen":50007', b'"amount_fen":50008', 7, "altered", id="amount"),
        pytest.param(b'"amount_fen":50007', b'"amount_fen":50007.0', 7, "altered", id="amount-as-float"),
        pytest.param("第7笔".encode(), "第8笔".encode(), 7, "altered", id="chinese-note"),
        pytest.param(b'"source":"member_donation"', b'"source":"fiscal"', 7, "altered", id="fund-source"),
        pytest.param(b'"schema":1', b'"schema":2', 7, "altered", id="schema"),
        pytest.param(b'"type":"fund.received"},', b'"type":"fund.spent"},', 7, "altered", id="payload-type"),
        pytest.param(b"T08:00:00.000000Z", b"T08:00:01.000000Z", 7, "altered", id="occurred-at"),
        pytest.param(b"T08:00:03.000000Z", b"T07:00:03.000000Z", 7, "altered", id="recorded-at"),
        pytest.param(
            dongguan(7).event_id.encode(),
            ("0" * 8 + dongguan(7).event_id[8:]).encode(),
            7,
            "altered",
            id="event-id",
        ),
        # the fault names the seq the envelope claims
        pytest.param(b'"seq":7', b'"seq":70', 70, "altered", id="seq"),
        pytest.param(DONGGUAN.key_id.encode(), FOREIGN.key_id.encode(), 7, "unknown key", id="key-id"),
    ],
)
def test_edited_wire_bytes_are_detected(old: bytes, new: bytes, seq: int, word: str) -> None:
    assert TAMPERED == 7
    faults = faults_of(tamper_line(TAMPERED, old, new))
    assert (faults[0].node_id, faults[0].seq) == ("dongguan", seq)
    assert word in faults[0].reason


def test_edited_hash_on_the_wire_is_detected() -> None:
    real = dongguan(TAMPERED).hash
    fake = ("0" if real[0] != "0" else "1") + real[1:]
    faults = faults_of(tamper_line(TAMPERED, f'"hash":"{real}"'.encode(), f'"hash":"{fake}"'.encode()))
    assert (faults[0].seq, "altered" in faults[0].reason) == (TAMPERED, True)


def test_edited_signature_on_the_wire_is_detected() -> None:
    real = dongguan(TAMPERED).sig
    fake = real[:-1] + ("0" if real[-1] != "0" else "1")
    faults = faults_of(tamper_line(TAMPERED, f'"sig":"{real}"'.encode(), f'"sig":"{fake}"'.encode()))
    assert (faults[0].seq, "signature does not verify" in faults[0].reason) == (TAMPERED, True)


def test_deleted_and_reordered_lines_are_detected() -> None:
    lines = wire_lines()
    i = position(archive(), "dongguan", TAMPERED)
    assert faults_of(lines[:i] + lines[i + 1 :])[0].seq == TAMPERED + 1
    j = position(archive(), "dongguan", TAMPERED + 1)
    lines[i], lines[j] = lines[j], lines[i]
    assert faults_of(lines)[0].seq == TAMPERED + 1


def test_reformatting_the_json_changes_nothing_an_auditor_proves() -> None:
    """Whitespace, key order and \\u escapes are not content: the payload is re-canonicalised."""
    reformatted = []
    for line in wire_lines():
        tree = json.loads(line)
        tree["payload"] = dict(reversed(tree["payload"].items()))
        reformatted.append(json.dumps(tree, indent=2, ensure_ascii=True).encode())
    assert b"\\u" in reformatted[0]
    assert faults_of(reformatted) == []


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        pytest.param(b'"hash":"', b'"hash":"A', "hash", id="hash-not-hex"),
        pytest.param(b'"seq":7', b'"seq":"7"', "seq", id="seq-as-text"),
        pytest.param(b"T08:00:00.000000Z", b"T08:00:00Z", "occurred_at", id="time-form"),
        pytest.param(b'"node_id":"dongguan"', b'"node_id":"Dongguan"', "node_id", id="node-id"),
    ],
)
def test_malformed_wire_bytes_are_refused_naming_the_field(old: bytes, new: bytes, field: str) -> None:
    line = tamper_line(TAMPERED, old, new)[position(archive(), "dongguan", TAMPERED)]
    with pytest.raises(FieldError) as caught:
        decode(line)
    assert caught.value.field == field


def test_truncated_wire_line_is_refused() -> None:
    line = wire_lines()[0]
    with pytest.raises(FieldError):
        decode(line[: len(line) // 2])
