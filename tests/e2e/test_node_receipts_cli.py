"""`tongxin node receipts`: the county receipts a node holds, read as a clerk and as an audit reads them."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from services.branch_node.service import NodeService
from services.county.audit.node_receipts import NodeReceiptsError, node_receipts
from shared import envelope, receipt
from shared.receipt import Receipt
from shared.signing import Signer
from tests.conftest import make_node_dir
from tests.county.helpers import record
from tests.e2e.conftest import tongxin
from tests.samples import fund

COUNTY = Signer.from_seed_hex("c0" * 32)


def issue(node: NodeService, seq: int, hash_: str | None = None) -> Receipt:
    """The county's receipt for this node's chain up to `seq` (its own hash there, unless given)."""
    ((_, data),) = node.envelopes.after(seq - 1, 1)
    return receipt.issue(
        COUNTY,
        county_id="jx",
        node_id=node.node_id,
        seq=seq,
        hash=hash_ or envelope.decode(data).hash,
        received_at=f"2026-03-0{seq}T00:00:00.000000Z",
        issued_at=f"2026-03-0{seq}T00:00:01.000000Z",
    )


def node_with_receipts(path: Path) -> list[Receipt]:
    """A node (real files, real SQLite) holding three receipts, the last for a hash it never had."""
    node = NodeService(make_node_dir(path, county_public_key=COUNTY.public_key_hex))
    try:
        record(node, [fund(i) for i in range(5)])
        given = [issue(node, 2), issue(node, 4), issue(node, 5, "ab" * 32)]
        for r in reversed(given):  # kept in seq order whatever order they came in
            assert node.receipts.accept(r, node.node_id) is not None
        assert node.receipts.all() == given
    finally:
        node.close()
    return given


EMPTY = hashlib.sha256(b"").hexdigest()
"""A read-only reader of a WAL database may create an empty -wal (and the -shm index) beside it."""


def fingerprint(data_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_dir.glob("log.db*")}


def test_receipts_prints_each_held_receipt_and_changes_nothing(tmp_path: Path) -> None:
    held = node_with_receipts(tmp_path / "node")
    before = fingerprint(tmp_path / "node")
    table = tongxin("node", "receipts", "-d", str(tmp_path / "node"))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["2", "4", "5"]
    assert "verified, matches this node's chain" in lines[0]
    assert "verified, DIFFERS from this node's chain" in lines[2]
    assert lines[-1] == "3 receipt(s)"
    as_json = tongxin("node", "receipts", "--json", "-d", str(tmp_path / "node"))
    assert as_json.returncode == 0, as_json.stderr
    assert [receipt.decode(line.encode()) for line in as_json.stdout.splitlines()] == held
    assert as_json.stdout.encode() == b"".join(receipt.encode(r) + b"\n" for r in held), "wire form"
    after = fingerprint(tmp_path / "node")
    assert after["log.db"] == before["log.db"], "log.db is opened read-only"
    assert after.get("log.db-wal", EMPTY) in (before.get("log.db-wal"), EMPTY), "nothing was written"


def test_the_audit_reads_the_node_command_from_a_data_dir_a_copy_or_its_jsonl(tmp_path: Path) -> None:
    held = node_with_receipts(tmp_path / "node")
    copy = tmp_path / "handed-to-the-auditor"  # log.db only: no node.json, no keys
    copy.mkdir()
    for p in (tmp_path / "node").glob("log.db*"):
        shutil.copy(p, copy / p.name)
    jsonl = tmp_path / "dongguan-receipts.jsonl"
    jsonl.write_text(tongxin("node", "receipts", "--json", "-d", str(copy)).stdout)
    for source in (tmp_path / "node", copy, jsonl):
        claims = node_receipts(source)
        assert [c.receipt for c in claims] == held
        assert {c.source for c in claims} == {f"node ({source})"}


def test_receipts_of_a_dir_without_a_node_log_fail_naming_it(tmp_path: Path) -> None:
    done = tongxin("node", "receipts", "--json", "-d", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "no log.db" in done.stderr and done.stdout == ""
    with pytest.raises(NodeReceiptsError) as caught:
        node_receipts(tmp_path)
    assert str(caught.value).startswith(f"--node-receipts {tmp_path}: no node log in {tmp_path}")


def test_receipts_help_has_an_example() -> None:
    done = tongxin("node", "receipts", "--help")
    assert done.returncode == 0 and "Example" in done.stdout and "--node-receipts" in done.stdout
