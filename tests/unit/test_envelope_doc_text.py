"""docs/envelope.md §10's example call runs as printed, on a file of envelopes whose strings hold
the text edge cases (U+2028, U+2029, U+0085 raw; \\x1c–\\x1e escaped), signed by the worked
example's key (§9): the chain verifies, and a tampered copy does not."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.envelope import GENESIS_HASH, canonical, format_time
from shared.signing import Signer

DOC = Path(__file__).resolve().parents[2] / "docs" / "envelope.md"
EDGES = ("\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e")
TEXT = ("\u2028", "\u2029")


def doc_parts() -> tuple[str, str, str]:
    """The verifier's code, the example call and the worked example's seed, from the page."""
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"<!--\s*example:verify\.py\s*-->\s*\n```python\n(.*?)\n```", text, re.S)
    call = re.search(r"For example, `(verify_node\(.*?\))`", text, re.S)
    seed = re.search(r"<!--\s*example:seed\s*-->\s*\n```text\n(.*?)\n```", text, re.S)
    assert code and call and seed, "envelope.md §9–§10 hold the seed, the verifier and its example call"
    return code[1], call[1], seed[1]


def chain_file(path: Path, seed: str) -> list[bytes]:
    """dongguan's envelopes, one per edge case, signed with the example seed; one per line.
    U+2028 and U+2029 sit in the note; the control characters, which no text field of the catalog
    takes (shared.bounds.TEXT_PATTERN), in a payload field a later schema could add."""
    signer, prev, lines = Signer.from_seed_hex(seed), GENESIS_HASH, []
    start = datetime.fromisoformat("2026-03-05T02:30:00.000000Z")
    for seq, char in enumerate(EDGES, start=1):
        text = f"党员捐款{char}用于活动阵地"
        payload: dict[str, Any] = {
            "type": "fund.received", "org_id": "dongguan", "source": "member_donation",
            "amount_fen": 100 * seq, "note": text if char in TEXT else "",
            **({} if char in TEXT else {"remark": text}),
        }  # fmt: skip
        body = {
            "node_id": "dongguan", "seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"d/{seq}")),
            "type": "fund.received", "schema": 1,
            "occurred_at": format_time(start + timedelta(minutes=seq)),
            "recorded_at": format_time(start + timedelta(minutes=seq, seconds=1)),
            "payload": payload, "prev_hash": prev,
        }  # fmt: skip
        digest = hashlib.sha256(canonical(body))
        prev = digest.hexdigest()
        sig = signer.sign(digest.digest()).hex()
        lines.append(canonical({**body, "hash": prev, "sig": sig, "key_id": signer.key_id}))
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return lines


def test_the_example_call_verifies_a_chain_holding_every_text_edge_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, call, seed = doc_parts()
    lines = chain_file(tmp_path / "dongguan.jsonl", seed)
    assert all(c.encode() in b"".join(lines) for c in EDGES[:3]), "raw inside the strings"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "envelope_doc_call"}
    exec(compile(code, f"{DOC}:verify.py", "exec"), namespace)
    assert eval(call, namespace) is None

    (tmp_path / "dongguan.jsonl").write_bytes(
        b"".join(line.replace("用于".encode(), "挪用".encode()) + b"\n" for line in lines)
    )
    assert eval(call, namespace) == (1, "hash does not match the contents (altered)")
