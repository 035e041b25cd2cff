"""The one-page export verifier printed in docs/audit.md §6, taken from the page and run as its own
Python process, as an auditor runs it, against a real export (`tongxin audit export`, SQLite and
PostgreSQL) whose envelopes hold every text edge case: U+2028, U+2029 and U+0085, which
canonical JSON leaves raw inside strings, and \\x1c–\\x1e (escaped as \\u001c…, but line breaks
to `str.splitlines()` once decoded). It must verify the good export — as `tongxin audit verify
--export` does — and catch the issue's truncation, a repeated key and a lone surrogate.

U+2028 and U+2029 are recorded at a real node in its text fields. U+0085 and \\x1c–\\x1e are
control characters, which the node's text fields refuse (issue 13): they ride in a payload field
the catalog does not know, in envelopes signed with the node's own key and ingested by the county.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from services.branch_node.service import NodeService
from services.county.ingest.processor import Ingestor
from shared import envelope, receipt
from tests.county.helpers import craft, enrol_nodes, feed, open_node, record
from tests.county.test_audit_integrity import COUNTY
from tests.county.test_signed_export import manifest_of, put_manifest, read, sign, truncate_last_three, write
from tests.e2e.conftest import tongxin
from tests.samples import mixed, registration

ROOT = Path(__file__).resolve().parents[2]
EDGES = {
    "U+2028": "\u2028",
    "U+2029": "\u2029",
    "U+0085": "\u0085",
    "x1c": "\x1c",
    "x1d": "\x1d",
    "x1e": "\x1e",
}
RAW = ("\u2028", "\u2029", "\u0085")
"""Written raw inside strings by canonical JSON; the others are escaped (`\\u001c`)."""
TEXT = ("\u2028", "\u2029")
"""What the catalog's text fields take: the rest are control characters (C0, and C1's U+0085),
which the node's edges refuse since issue 13 (shared.bounds.TEXT_PATTERN)."""


def edge_items() -> list[dict[str, Any]]:
    """Funds whose notes hold U+2028 and U+2029 between two lines of Chinese text, and a member
    whose occupation holds both."""
    items: list[dict[str, Any]] = [
        {
            "type": "fund.received",
            "occurred_at": "2026-02-01T10:00:00+08:00",
            "payload": {
                "org_id": "dongguan",
                "source": "member_donation",
                "amount_fen": 1_000 + i,
                "note": f"党员捐款{char}用于活动阵地",
            },
        }
        for i, char in enumerate(TEXT)
    ]
    member = registration(7)
    member["payload"] |= {"occupation": "皮具\u2028加工\u2029"}
    return [*mixed(4), *items, member, *mixed(3, start=50)]


def later_schema(node: NodeService, start: int, prev_hash: str) -> list[bytes]:
    """The control characters no text field takes, in a payload field a later schema could add
    (the catalog ignores fields it does not know, so the county archives them): funds signed with
    the node's own key, continuing its chain."""
    datas: list[bytes] = []
    for seq, (name, char) in enumerate([(n, c) for n, c in EDGES.items() if c not in TEXT], start=start):
        payload = {
            "type": "fund.received", "org_id": node.node_id, "source": "member_donation",
            "amount_fen": 100 * seq, "note": "", "remark": f"党员捐款{char}用于活动阵地（{name}）",
        }  # fmt: skip
        data = craft(
            node.first_key, node_id=node.node_id, seq=seq, type_="fund.received", payload=payload,
            prev_hash=prev_hash,
        )  # fmt: skip
        prev_hash = envelope.decode(data).hash
        datas.append(data)
    return datas


@dataclass
class Exported:
    path: Path
    node_receipts: Path
    dongguan: NodeService


@pytest.fixture
def exported(county_engine: Engine, county_db_url: str, tmp_path: Path) -> Iterator[Exported]:
    dongguan, huadu = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    try:
        datas = record(dongguan, edge_items()) + record(huadu, mixed(4, start=100))
        datas += later_schema(huadu, 5, envelope.decode(datas[-1]).hash)
        enrol_nodes(county_engine, dongguan, huadu)
        ingestor = Ingestor(county_engine, "jx", COUNTY)
        outcomes = feed(ingestor, datas, batch=5)
        assert {o.value for o in outcomes} == {"archived"}, "every envelope archived, none refused"
        for r in ingestor.outbox:
            (dongguan if r.node_id == "dongguan" else huadu).receipts.accept(r, r.node_id)
        held = tmp_path / "dongguan-receipts.jsonl"
        held.write_bytes(b"".join(receipt.encode(r) + b"\n" for r in dongguan.receipts.all()))
        key = tmp_path / "county.key"
        COUNTY.save(key)
        out = tmp_path / "jx.zip"
        done = tongxin(
            "audit", "export", "--db", county_db_url, "--county-key", str(key), "--county-id", "jx",
            "--out", str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        yield Exported(out, held, dongguan)
    finally:
        dongguan.close()
        huadu.close()


def page_verifier(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- audit:verify_export\.py -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/audit.md §6 holds the standalone verifier"
    script = tmp_path / "verify_export.py"
    script.write_text(match.group(1), encoding="utf-8")
    return script


def run(script: Path, export: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(export), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_page_verifier_verifies_a_real_export_holding_every_text_edge_case(
    exported: Exported, tmp_path: Path
) -> None:
    lines = read(exported.path)["envelopes.jsonl"].split(b"\n")[:-1]
    for char in RAW:
        assert any(char.encode() in line for line in lines), f"{char!r} is raw in the export"
    for char in ("\x1c", "\x1d", "\x1e"):
        escaped = f"\\u{ord(char):04x}".encode()
        assert any(escaped in line for line in lines), f"{char!r} is in the export, escaped"
    trees = [envelope.payload_tree(envelope.decode(line).payload) for line in lines]
    texts = [str(t.get("note")) + str(t.get("remark")) for t in trees]
    assert all(any(char in t for t in texts) for char in EDGES.values()), "each edge case inside a string"

    script = page_verifier(tmp_path)
    done = run(script, exported.path, COUNTY.public_key_hex, str(exported.node_receipts))
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "OK", ""), done.stdout + done.stderr
    project = tongxin(
        "audit", "verify", "--export", str(exported.path), "--county-public-key", COUNTY.public_key_hex,
        "--node-receipts", str(exported.node_receipts),
    )  # fmt: skip
    assert project.returncode == 0 and "everything verifies" in project.stdout, project.stdout


def test_the_page_verifier_catches_the_issues_truncation_and_lines_no_node_signed(
    exported: Exported, tmp_path: Path
) -> None:
    script = page_verifier(tmp_path)
    files = read(exported.path)
    head = max(r.seq for r in exported.dongguan.receipts.all())
    at = truncate_last_three(files)
    bad = write(tmp_path / "cut.zip", files)
    for args in ((), (str(exported.node_receipts),)):
        done = run(script, bad, COUNTY.public_key_hex, *args)
        lines = done.stdout.splitlines()
        assert done.returncode == 1 and done.stderr == "", done.stdout + done.stderr
        assert lines[0] == "export - manifest.json is not signed by the county key (or altered after)"
        assert f"dongguan {head} county receipt not matched by the envelope at its seq" in lines
    assert f"dongguan {head} node receipt not matched by the envelope at its seq" in lines
    sign(files)  # the county itself signs the cut: its selection asked for none
    done = run(script, write(tmp_path / "signed.zip", files), COUNTY.public_key_hex)
    assert f"dongguan {at} the export ends elsewhere than its selection asks" in done.stdout.splitlines()

    for change, words in {
        (b'"payload":{', b'"payload":{"amount_fen":1,'): "a key appears twice in one object",
        (b'"org_id":"dongguan"', b'"org_id":"dongguan\\ud800"'): "surrogates not allowed",
    }.items():
        files = read(exported.path)
        lines = files["envelopes.jsonl"].split(b"\n")
        number = next(i for i, line in enumerate(lines) if b'"type":"fund.received"' in line)
        lines[number] = lines[number].replace(*change, 1)
        files["envelopes.jsonl"] = b"\n".join(lines)
        put_manifest(files, manifest_of(files))
        sign(files)
        done = run(script, write(tmp_path / "line.zip", files), COUNTY.public_key_hex)
        seq = envelope.decode(read(exported.path)["envelopes.jsonl"].split(b"\n")[number]).seq
        (fault,) = done.stdout.splitlines()[:-1]
        prefix = f"dongguan {seq} envelopes.jsonl line {number + 1} is not a valid envelope (altered): "
        assert fault.startswith(prefix) and words in fault, done.stdout + done.stderr
