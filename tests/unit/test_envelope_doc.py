"""docs/envelope.md tells auditors the truth.

Its worked example is recomputed with the project's code and independently (hashlib, json,
PyNaCl), and its standalone verifier is run on real and tampered chains.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError
from nacl.signing import SigningKey

from shared.catalog import convert_payload
from shared.catalog.base import Personal
from shared.chain import single_key, verify_chain
from shared.envelope import GENESIS_HASH, Envelope, body_of, canonical, decode, encode, sign
from shared.errors import FieldError
from shared.personal import MemberKey, seal, unseal
from shared.signing import Signer, Verifier
from shared.wire import events_subject, msg_id

DOC = Path(__file__).resolve().parents[2] / "docs" / "envelope.md"
EXAMPLE = re.compile(r"<!--\s*example:(?P<name>[\w.-]+)\s*-->\s*\n```\w*\n(?P<body>.*?)\n```", re.S)
BODY_FIELDS = (
    "node_id",
    "seq",
    "event_id",
    "type",
    "schema",
    "occurred_at",
    "recorded_at",
    "payload",
    "prev_hash",
)
WIRE_FIELDS = (*BODY_FIELDS, "hash", "sig", "key_id")


def python_canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def examples(doc: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in EXAMPLE.finditer(doc):
        assert m["name"] not in found, f"example {m['name']} appears twice"
        found[m["name"]] = m["body"]
    return found


@pytest.fixture(scope="module")
def inputs(examples: dict[str, str]) -> dict[str, Any]:
    return json.loads(examples["inputs"])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def snippet(examples: dict[str, str]) -> dict[str, Any]:
    """The doc's standalone verifier, executed in a namespace of its own."""
    namespace: dict[str, Any] = {"__name__": "envelope_doc_snippet"}
    exec(compile(examples["verify.py"], f"{DOC}:verify.py", "exec"), namespace)
    return namespace


def one_line(examples: dict[str, str], name: str) -> str:
    text = examples[name]
    assert "\n" not in text and text == text.strip(), f"{name} must be one line"
    return text


def signed_example(inputs: dict[str, Any], seed_hex: str) -> Envelope:
    return sign(
        node_id=inputs["node_id"],
        seq=inputs["seq"],
        event_id=inputs["event_id"],
        body=convert_payload(inputs["type"], inputs["payload"]),
        occurred_at=datetime.fromisoformat(inputs["occurred_at"]),
        recorded_at=datetime.fromisoformat(inputs["recorded_at"]),
        prev_hash=inputs["prev_hash"],
        signer=Signer.from_seed_hex(seed_hex),
    )


# --- the worked example -------------------------------------------------------------------------


def test_doc_has_every_example(examples: dict[str, str]) -> None:
    assert set(examples) == {
        "personal-clear",
        "personal-sealed",
        "seed",
        "inputs",
        "canonical",
        "hash",
        "public-key",
        "key-id",
        "signature",
        "wire",
        "verify.py",
    }


def test_example_is_what_the_project_code_produces(examples: dict[str, str], inputs: dict[str, Any]) -> None:
    seed = one_line(examples, "seed")
    env = signed_example(inputs, seed)
    signer = Signer.from_seed_hex(seed)

    assert canonical(body_of(env)) == one_line(examples, "canonical").encode("utf-8")
    assert env.hash == one_line(examples, "hash")
    assert signer.public_key_hex == one_line(examples, "public-key")
    assert signer.key_id == env.key_id == one_line(examples, "key-id")
    assert env.sig == one_line(examples, "signature")
    assert encode(env) == one_line(examples, "wire").encode("utf-8")
    assert decode(encode(env)) == env


def test_example_inputs_are_the_stated_event(inputs: dict[str, Any]) -> None:
    assert inputs["node_id"] == "dongguan"
    assert inputs["seq"] == 1
    assert inputs["type"] == "fund.received"
    assert inputs["prev_hash"] == GENESIS_HASH
    assert str(uuid.UUID(inputs["event_id"])) == inputs["event_id"]
    recorded = datetime.fromisoformat(inputs["recorded_at"])
    occurred = datetime.fromisoformat(inputs["occurred_at"])
    assert recorded - occurred == timedelta(seconds=67, microseconds=123456)


def test_example_recomputed_independently(examples: dict[str, str], inputs: dict[str, Any]) -> None:
    """hashlib, json and PyNaCl only: no project code between the doc and the numbers."""
    canonical_text = one_line(examples, "canonical")
    body = json.loads(canonical_text)
    wire_text = one_line(examples, "wire")
    wire = json.loads(wire_text)

    # the body: the nine fields, equal to the inputs apart from the payload the node completed
    assert tuple(sorted(body)) == tuple(sorted(BODY_FIELDS))
    assert {k: v for k, v in body.items() if k not in ("payload", "schema")} == {
        k: v for k, v in inputs.items() if k != "payload"
    }
    assert body["schema"] == 1
    assert body["payload"] == {**inputs["payload"], "type": inputs["type"]}
    assert python_canonical(body) == canonical_text.encode("utf-8")
    assert "党" in canonical_text and "\\u" not in canonical_text, "UTF-8, not ASCII-escaped"

    # the hash: SHA-256 of the canonical body
    digest = hashlib.sha256(canonical_text.encode("utf-8")).digest()
    assert digest.hex() == one_line(examples, "hash")

    # the key: public key from the seed; key_id from the raw public-key bytes
    signing_key = SigningKey(bytes.fromhex(one_line(examples, "seed")))
    public_key = bytes(signing_key.verify_key)
    assert public_key.hex() == one_line(examples, "public-key")
    assert hashlib.sha256(public_key).hexdigest()[:16] == one_line(examples, "key-id")

    # the signature: over the 32 raw bytes of the hash, not its hex text
    signature = bytes.fromhex(one_line(examples, "signature"))
    assert signing_key.sign(digest).signature == signature
    assert signing_key.verify_key.verify(digest, signature) == digest
    assert signing_key.sign(digest.hex().encode()).signature != signature

    # the wire form: the twelve fields, keys sorted, no whitespace
    assert tuple(sorted(wire)) == tuple(sorted(WIRE_FIELDS))
    assert {k: wire[k] for k in BODY_FIELDS} == body
    assert (wire["hash"], wire["sig"], wire["key_id"]) == (
        digest.hex(),
        signature.hex(),
        hashlib.sha256(public_key).hexdigest()[:16],
    )
    assert python_canonical(wire) == wire_text.encode("utf-8")


def test_example_times_have_the_exact_form(inputs: dict[str, Any]) -> None:
    form = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
    assert form.match(inputs["occurred_at"]) and form.match(inputs["recorded_at"])


SEALED_MEMBER = "0123456789abcdef0123456789abcdef"
SEALED_KEY = MemberKey("fedcba9876543210fedcba9876543210", bytes(range(0x21, 0x41)))
SEALED_NONCE = bytes(range(0x41, 0x59))
ZHANG = Personal(name="张三", id_number="43072119900101123X")


def test_sealed_personal_example_is_what_the_project_code_produces(examples: dict[str, str]) -> None:
    clear = msgspec.json.decode(one_line(examples, "personal-clear"), type=Personal)
    sealed = seal(clear, SEALED_KEY, SEALED_MEMBER, SEALED_NONCE)
    assert msgspec.json.encode(sealed).decode() == one_line(examples, "personal-sealed")
    assert unseal(sealed, SEALED_KEY.key, SEALED_MEMBER) == clear


def test_sealed_personal_example_opened_independently(examples: dict[str, str]) -> None:
    """The doc's recipe, with libsodium's primitive and nothing of the project's."""
    box = json.loads(one_line(examples, "personal-sealed"))["sealed"]
    aad = b"tongxin personal v1" + b"\0" + SEALED_MEMBER.encode() + b"\0" + box["key_id"].encode()
    nonce = base64.b64decode(box["nonce"])
    assert nonce == SEALED_NONCE and box["alg"] == "xchacha20poly1305-ietf"
    clear = crypto_aead_xchacha20poly1305_ietf_decrypt(
        base64.b64decode(box["box"]), aad, nonce, SEALED_KEY.key
    )
    assert clear.decode() == one_line(examples, "personal-clear")
    for wrong in (b"tongxin personal v1\0" + b"f" * 32 + b"\0" + box["key_id"].encode(), b""):
        with pytest.raises(CryptoError):
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                base64.b64decode(box["box"]), wrong, nonce, SEALED_KEY.key
            )


def test_transport_names_in_the_doc(doc: str) -> None:
    assert f"`{events_subject('jx', 'dongguan')}`" in doc
    assert "`tongxin.<county>.events.<node_id>`" in doc
    assert "`Nats-Msg-Id: <node_id>:<seq>:<hash>`" in doc
    assert msg_id("dongguan", 1, "ab" * 32) == "dongguan:1:" + "ab" * 32


def test_the_doc_names_the_canonical_encoding_exactly(doc: str) -> None:
    assert 'json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()' in doc


# --- the fault reasons the doc lists ----------------------------------------------------------


def reason_patterns(doc: str) -> list[re.Pattern[str]]:
    table = doc[doc.index("| check | reason reported |") :]
    table = table[: table.index("\n\n")]
    templates = [t for row in table.splitlines()[2:] for t in re.findall(r"`([^`]*)`", row.split("|")[2])]
    patterns = []
    for template in templates:
        rx = re.escape(template).replace(re.escape("<key_id>"), "[0-9a-f]{16}")
        rx = rx.replace(re.escape("<detail>"), ".+")
        rx = re.sub(r"\b[NM]\b", r"\\d+", rx)
        patterns.append(re.compile(f"^{rx}$"))
    return patterns


def test_every_reason_the_verifier_gives_is_listed_in_the_doc(doc: str) -> None:
    signer = Signer.from_seed_hex(bytes(range(1, 33)).hex())
    stranger = Signer.from_seed_hex(bytes(range(33, 65)).hex())
    chain = build_chain(signer, 6)
    edited = msgspec.structs.replace(chain[2], occurred_at="2020-01-01T00:00:00.000000Z")
    with_float = msgspec.structs.replace(chain[2], payload=msgspec.Raw(b'{"amount_fen":1.5}'))
    both = {signer.key_id: Verifier(signer.public_key), stranger.key_id: Verifier(stranger.public_key)}
    undesignated = verify_chain([*chain[:2], resign(chain[2], stranger)], lambda _n, k: both.get(k))
    tampered = [
        [*chain[:2], with_float, *chain[3:]],  # not canonical
        [*chain[:2], edited, *chain[3:]],  # altered
        [*chain[:2], resign(chain[2], stranger), *chain[3:]],  # unknown key
        [*chain[:2], msgspec.structs.replace(chain[2], sig=chain[3].sig), *chain[3:]],  # signature
        [*chain[:2], *chain[3:]],  # missing
        [*chain[:3], chain[2], *chain[3:]],  # repeated
        [
            *chain[:2],
            resign(msgspec.structs.replace(chain[2], prev_hash=GENESIS_HASH), signer),
            *chain[3:],
        ],
    ]
    reasons = [
        f.reason for envs in tampered for f in verify_chain(envs, single_key(Verifier(signer.public_key)))
    ] + [f.reason for f in undesignated]
    patterns = reason_patterns(doc)
    assert len(patterns) == 8
    for reason in reasons:
        assert any(p.match(reason) for p in patterns), f"not in docs/envelope.md: {reason!r}"
    for pattern in patterns:
        assert any(pattern.match(r) for r in reasons), f"never produced: {pattern.pattern}"


# --- the standalone verifier -----------------------------------------------------------------


def build_chain(signer: Signer, length: int, node_id: str = "dongguan") -> list[Envelope]:
    """A real chain with mixed event types, Chinese text, nulls and an interior escape."""
    payloads: list[tuple[str, dict[str, Any]]] = [
        (
            "fund.received",
            {"org_id": node_id, "source": "fiscal", "amount_fen": 300_000, "note": "财政拨"},
        ),
        (
            "org.registered",
            {
                "org_id": "shanxia-village",
                "name": "山下村党支部",
                "kind": "village_branch",
                "parent_id": "county",
            },
        ),
        ("member.returned", {"member_id": "0" * 32, "note": '说明："返乡"\n第二行\t\\'}),
        ("fund.spent", {"org_id": node_id, "amount_fen": 12_050, "purpose": "购置学习资料"}),
        ("jobs.placed", {"org_id": node_id, "people": 27}),
        (  # sealed: the verifier checks it without any key (a fixed nonce: a test edits its sig)
            "member.registered",
            {
                "member_id": SEALED_MEMBER,
                "personal": msgspec.to_builtins(
                    seal(
                        Personal(name="张三", id_number="43072119900101123X"),
                        SEALED_KEY,
                        SEALED_MEMBER,
                        SEALED_NONCE,
                    )
                ),
                "home_branch": "shanxia-village",
                "flowed_out_on": "2019-03-01",
            },
        ),
    ]
    envelopes: list[Envelope] = []
    prev_hash = GENESIS_HASH
    start = datetime.fromisoformat("2026-03-05T02:30:00.000000Z")
    for seq in range(1, length + 1):
        type_, payload = payloads[(seq - 1) % len(payloads)]
        env = sign(
            node_id=node_id,
            seq=seq,
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{node_id}/{seq}")),
            body=convert_payload(type_, payload),
            occurred_at=start + timedelta(minutes=seq),
            recorded_at=start + timedelta(minutes=seq, seconds=1),
            prev_hash=prev_hash,
            signer=signer,
        )
        envelopes.append(env)
        prev_hash = env.hash
    return envelopes


def resign(env: Envelope, signer: Signer) -> Envelope:
    digest = hashlib.sha256(canonical(body_of(env)))
    return msgspec.structs.replace(
        env, hash=digest.hexdigest(), sig=signer.sign(digest.digest()).hex(), key_id=signer.key_id
    )


SIGNER = Signer.from_seed_hex(bytes(range(1, 33)).hex())
STRANGER = Signer.from_seed_hex(bytes(range(65, 97)).hex())
CHAIN = build_chain(SIGNER, 12)
LINES = [encode(e).decode("utf-8") for e in CHAIN]


def test_snippet_accepts_a_real_chain(snippet: dict[str, Any]) -> None:
    assert snippet["verify_node"](LINES, SIGNER.public_key_hex) is None
    assert snippet["verify_node"]([], SIGNER.public_key_hex) is None


def test_snippet_accepts_the_worked_example(snippet: dict[str, Any], examples: dict[str, str]) -> None:
    lines = [one_line(examples, "wire")]
    assert snippet["verify_node"](lines, one_line(examples, "public-key")) is None


def test_snippet_accepts_reformatted_json(snippet: dict[str, Any]) -> None:
    pretty = [json.dumps(json.loads(line), indent=1, ensure_ascii=True) for line in LINES]
    assert snippet["verify_node"](pretty, SIGNER.public_key_hex) is None


def rotated_chain(*, announce: bool) -> list[str]:
    """CHAIN with STRANGER signing from seq 7; with `announce`, seq 6 is a node.key_rotated
    envelope (signed by SIGNER) naming STRANGER's key."""
    rotated = CHAIN[:5]
    sixth = CHAIN[5]
    if announce:
        payload = {
            "type": "node.key_rotated",
            "new_key_id": STRANGER.key_id,
            "new_public_key": STRANGER.public_key_hex,
        }
        sixth = msgspec.structs.replace(
            sixth, type="node.key_rotated", payload=msgspec.Raw(canonical(payload))
        )
    rotated.append(resign(msgspec.structs.replace(sixth, prev_hash=rotated[-1].hash), SIGNER))
    for env in CHAIN[6:]:
        rotated.append(resign(msgspec.structs.replace(env, prev_hash=rotated[-1].hash), STRANGER))
    return [encode(e).decode() for e in rotated]


def test_snippet_follows_a_key_rotation_announced_in_the_chain(snippet: dict[str, Any]) -> None:
    assert snippet["verify_node"](rotated_chain(announce=True), SIGNER.public_key_hex) is None
    assert snippet["verify_node"](rotated_chain(announce=False), SIGNER.public_key_hex) == (
        7,
        f"signed by key {STRANGER.key_id} where the chain designates {SIGNER.key_id}",
    )


def edit_line(seq: int, old: str, new: str) -> list[str]:
    lines = list(LINES)
    assert lines[seq - 1].count(old) == 1, (old, lines[seq - 1])
    lines[seq - 1] = lines[seq - 1].replace(old, new)
    return lines


def resign_line(seq: int, signer: Signer, **changes: Any) -> list[str]:
    lines = list(LINES)
    lines[seq - 1] = encode(resign(msgspec.structs.replace(CHAIN[seq - 1], **changes), signer)).decode()
    return lines


def drop(seq: int) -> list[str]:
    return [line for i, line in enumerate(LINES, start=1) if i != seq]


def swap(seq: int) -> list[str]:
    lines = list(LINES)
    lines[seq - 1], lines[seq] = lines[seq], lines[seq - 1]
    return lines


TAMPERED: list[tuple[str, list[str], int, str]] = [
    # (case, lines, seq of the first fault, word its reason must contain)
    ("amount edited", edit_line(4, '"amount_fen":12050', '"amount_fen":1205'), 4, "altered"),
    ("chinese text edited", edit_line(1, "财政拨", "党费返"), 1, "altered"),
    ("escaped text edited", edit_line(3, "\\n第二行", "\\r第二行"), 3, "altered"),
    ("null dropped", edit_line(2, ',"mode":null', ""), 2, "altered"),
    ("time edited", edit_line(5, "02:35:00.000000Z", "02:35:00.000001Z"), 5, "altered"),
    ("hash edited", edit_line(6, CHAIN[5].hash, CHAIN[5].hash[::-1]), 6, "altered"),
    ("sig edited", edit_line(6, CHAIN[5].sig, CHAIN[5].sig[:-2] + "00"), 6, "signature"),
    ("sig truncated", edit_line(6, CHAIN[5].sig, CHAIN[5].sig[:-2]), 6, "signature"),
    ("key_id edited", edit_line(6, CHAIN[5].key_id, STRANGER.key_id), 6, "designates"),
    ("re-signed by a stranger", resign_line(6, STRANGER), 6, "designates"),
    ("re-linked with the node key", resign_line(6, SIGNER, prev_hash=CHAIN[1].hash), 6, "link"),
    ("edited and re-signed with the node key", resign_line(6, SIGNER, schema=2), 7, "link"),
    ("deleted", drop(5), 6, "missing"),
    ("first deleted", drop(1), 2, "missing"),
    ("duplicated", [*LINES[:5], LINES[4], *LINES[5:]], 5, "repeated"),
    ("swapped", swap(8), 9, "missing"),
    (
        "another node's envelope",
        [*LINES[:3], encode(build_chain(STRANGER, 4, "huadu")[3]).decode()],
        4,
        "node",
    ),
]


@pytest.mark.parametrize(("lines", "seq", "word"), [pytest.param(*c[1:], id=c[0]) for c in TAMPERED])
def test_snippet_rejects_a_tampered_copy(
    snippet: dict[str, Any], lines: list[str], seq: int, word: str
) -> None:
    fault = snippet["verify_node"](lines, SIGNER.public_key_hex)
    assert fault is not None, "tampering went unnoticed"
    assert fault[0] == seq
    assert word in fault[1]


@pytest.mark.parametrize(("lines", "seq", "word"), [pytest.param(*c[1:], id=c[0]) for c in TAMPERED])
def test_snippet_agrees_with_the_project_verifier(
    snippet: dict[str, Any], lines: list[str], seq: int, word: str
) -> None:
    """Where the project's verifier sees the same node's chain, it names the same first seq."""
    try:
        envelopes = [decode(line.encode("utf-8")) for line in lines]
    except FieldError as exc:  # the project refuses a malformed envelope before verifying it
        assert (exc.field, word) == ("sig", "signature")
        return
    keys = single_key(Verifier(SIGNER.public_key))
    faults = [f for f in verify_chain(envelopes, keys) if f.node_id == "dongguan"]
    if word == "node":  # the project verifier keeps each node's chain apart
        assert faults == []
        return
    assert faults[0].seq == snippet["verify_node"](lines, SIGNER.public_key_hex)[0] == seq
