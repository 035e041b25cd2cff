"""A signed export an auditor can't be talked out of (issue 13, cases 5 and 6): the county signs the
manifest; the verifier checks that signature first and holds the export to the scope its signed
selection claims; export lines are strict JSON, and a line no node can have signed is an altered
envelope at its node and seq.

Archives from real branch nodes (tests/county/test_audit_integrity.build: dongguan 40 envelopes,
its key rotated at 21, huadu 10; the county's receipts delivered to the nodes), SQLite and
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.county.audit.export import CountyMismatchError, Selection, write_export
from services.county.audit.export_verify import verify_export
from services.county.audit.node_receipts import NodeReceiptsError, node_receipts
from services.county.audit.report import Claim, Fault, Report
from services.county.ingest.processor import Ingestor
from shared import envelope, receipt
from shared.signing import Signer
from tests.county.helpers import feed, record
from tests.county.test_audit_integrity import (
    COUNTY,
    COUNTY_PUBLIC,
    DONGGUAN_LENGTH,
    FORGER,
    Built,
    build,
    node_claims,
)
from tests.samples import mixed

Files = dict[str, bytes]
SIGNED_CHANGED = "manifest.json was changed after it was signed"
REPEATS = "repeats the key '{}' in one object (not strict JSON)"


@pytest.fixture
def built(county_engine: Engine, tmp_path: Path) -> Iterator[Built]:
    b = build(county_engine, tmp_path / "nodes")
    yield b
    b.dongguan.close()
    b.huadu.close()


def export(b: Built, path: Path, sel: Selection | None = None, county_id: str = "jx") -> Path:
    with b.engine.connect() as conn:
        write_export(conn, sel or Selection(), path, county_id=county_id, county_key=COUNTY)
    return path


def read(path: Path) -> Files:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_of(files: Files) -> dict[str, object]:
    return json.loads(files["manifest.json"])  # type: ignore[no-any-return]


def put_manifest(files: Files, manifest: dict[str, object]) -> None:
    """The manifest written back as the exporter writes it, every file hash fixed up."""
    listed = manifest["files"]
    assert isinstance(listed, dict)
    for name in listed:
        listed[name] = {"sha256": sha256(files[name]), "bytes": len(files[name])}
    files["manifest.json"] = (
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    )


def sign(files: Files, signer: Signer = COUNTY) -> None:
    """manifest.sig made again for the manifest as it now is (the county itself, or a forger)."""
    digest = hashlib.sha256(files["manifest.json"]).digest()
    body = {"key_id": signer.key_id, "manifest_sha256": digest.hex(), "sig": signer.sign(digest).hex()}
    files["manifest.sig"] = json.dumps(body).encode()


def truncate_last_three(files: Files, node: str = "dongguan") -> int:
    """The issue's attack: a node's last three lines deleted, every unsigned field of the manifest
    fixed up to match (count, last_seq, head_hash, totals, the file's SHA-256), the county's
    receipts kept. Returns the seq the node now ends at."""
    lines = files["envelopes.jsonl"].split(b"\n")[:-1]
    own = [i for i, line in enumerate(lines) if envelope.decode(line).node_id == node]
    gone = set(own[-3:])
    files["envelopes.jsonl"] = b"".join(line + b"\n" for i, line in enumerate(lines) if i not in gone)
    head = envelope.decode(lines[own[-4]])
    manifest = manifest_of(files)
    nodes, totals = manifest["nodes"], manifest["totals"]
    assert isinstance(nodes, dict) and isinstance(totals, dict)
    nodes[node].update(count=nodes[node]["count"] - 3, last_seq=head.seq, head_hash=head.hash)
    totals["envelopes"] -= 3
    put_manifest(files, manifest)
    return head.seq


def verify(path: Path, claims: list[Claim] | None = None) -> Report:
    return verify_export(path, county_key=COUNTY_PUBLIC, node_claims=claims or [])


def truncated(at: int, source: str = "county", seq: int = DONGGUAN_LENGTH) -> Fault:
    return Fault(
        "dongguan",
        seq,
        f"{source} receipt acknowledges seq {seq}, but the export ends at seq {at} "
        "(tail truncated after acknowledgement)",
    )


# --- case 5: the truncation the issue found ----------------------------------------------------


def test_the_issues_truncation_with_every_unsigned_field_fixed_up_no_longer_verifies(
    built: Built, tmp_path: Path
) -> None:
    files = read(export(built, tmp_path / "all.zip"))
    kept_receipts = files["receipts.jsonl"]
    at = truncate_last_three(files)
    assert files["receipts.jsonl"] == kept_receipts and at == DONGGUAN_LENGTH - 3
    bad = write(tmp_path / "bad.zip", files)
    for claims in ([], node_claims(built.dongguan)):
        report = verify(bad, claims)
        assert not report.ok
        assert report.faults[0].node_id == "export" and report.faults[0].reason.startswith(SIGNED_CHANGED)
        assert truncated(at) in report.faults, report.faults
    assert truncated(at, "node") in verify(bad, node_claims(built.dongguan)).faults


def test_a_county_that_signs_a_cut_nobody_asked_for_is_caught_by_its_selection_and_receipts(
    built: Built, tmp_path: Path
) -> None:
    """The truncated manifest signed by the county key itself: the selection asked for whole
    chains, so the cut contradicts it; with its own receipts and the archive head it stated
    made to fit, the node's receipts still name the lost tail."""
    files = read(export(built, tmp_path / "all.zip"))
    at = truncate_last_three(files)
    sign(files)
    report = verify(write(tmp_path / "signed.zip", files))
    assert (
        Fault(
            "dongguan",
            at,
            f"the selection asks for seqs up to {DONGGUAN_LENGTH} (the archive's head {DONGGUAN_LENGTH} "
            f"when the export was made), the export ends at seq {at}",
        )
        in report.faults
    )
    assert truncated(at) in report.faults

    manifest = manifest_of(files)
    nodes = manifest["nodes"]
    assert isinstance(nodes, dict)
    nodes["dongguan"].update(archive_head_seq=at, archive_head_hash=nodes["dongguan"]["head_hash"])
    files["receipts.jsonl"] = b"".join(
        line + b"\n"
        for line in files["receipts.jsonl"].split(b"\n")[:-1]
        if not (receipt.decode(line).node_id == "dongguan" and receipt.decode(line).seq > at)
    )
    put_manifest(files, manifest)
    sign(files)
    fitted = write(tmp_path / "fitted.zip", files)
    assert verify(fitted).ok, "a consistent prefix, its receipts gone: only the node can tell"
    report = verify(fitted, node_claims(built.dongguan))
    assert truncated(at, "node") in report.faults
    assert (
        Fault(
            "dongguan",
            DONGGUAN_LENGTH,
            f"the county's receipts lack the node receipt for seq {DONGGUAN_LENGTH}",
        )
        in report.faults
    )


def test_a_cut_the_signed_selection_asked_for_verifies_with_every_receipt_the_nodes_hold(
    built: Built, tmp_path: Path
) -> None:
    claims = node_claims(built.dongguan) + node_claims(built.huadu)
    assert max(c.receipt.seq for c in claims) == DONGGUAN_LENGTH
    for name, sel in {
        "to_seq": Selection(to_seq=30),
        "from_seq": Selection(nodes=["dongguan"], from_seq=25),
        "both": Selection(nodes=["dongguan"], from_seq=5, to_seq=12),
    }.items():
        path = export(built, tmp_path / f"{name}.zip", sel)
        assert "manifest.sig" in read(path), name
        report = verify(path, claims)
        assert (report.ok, report.notes) == (True, []), (name, report.faults)


def test_a_receipt_the_county_issued_after_the_export_was_made_is_no_fault(
    built: Built, tmp_path: Path
) -> None:
    """The export holds each chain up to its head then; the node goes on and its newer receipts
    acknowledge what the export could not hold yet."""
    path = export(built, tmp_path / "all.zip")
    more = record(built.dongguan, mixed(5, start=200))
    ingestor = Ingestor(built.engine, "jx", COUNTY)
    feed(ingestor, more)
    for r in ingestor.outbox:
        built.dongguan.receipts.accept(r, r.node_id)
    claims = node_claims(built.dongguan)
    assert max(c.receipt.seq for c in claims) == DONGGUAN_LENGTH + 5
    report = verify(path, claims)
    assert report.ok, report.faults


def test_the_manifest_signature_is_checked_first_and_refused_when_tampered_edited_missing_or_foreign(
    built: Built, tmp_path: Path
) -> None:
    good = read(export(built, tmp_path / "all.zip"))
    sig = json.loads(good["manifest.sig"])

    tampered = dict(good)
    flipped = ("0" if sig["sig"][0] != "0" else "1") + sig["sig"][1:]
    tampered["manifest.sig"] = json.dumps({**sig, "sig": flipped}).encode()
    edited = dict(good)
    edited["manifest.json"] = good["manifest.json"].replace(b'"created_at": "', b'"created_at": "1', 1)
    missing = {n: d for n, d in good.items() if n != "manifest.sig"}
    foreign = dict(good)
    sign(foreign, FORGER)
    old = dict(missing)
    manifest = manifest_of(old)
    manifest["version"] = 1
    put_manifest(old, manifest)
    cases = {
        "tampered": (tampered, f"manifest.sig does not verify under the county key {COUNTY.key_id}"),
        "edited": (edited, SIGNED_CHANGED),
        "missing": (missing, "manifest.sig is missing: the manifest is not signed by the county"),
        "foreign": (foreign, f"manifest.sig is signed by key {FORGER.key_id}, not by the county key"),
        "version 1": (old, "manifest.json is not signed (a version 1 export)"),
    }
    assert verify(write(tmp_path / "good.zip", good)).ok
    for name, (files, reason) in cases.items():
        report = verify(write(tmp_path / f"{name}.zip", files))
        assert not report.ok, name
        first = report.faults[0]
        assert (first.node_id, first.seq) == ("export", 0) and first.reason.startswith(reason), (name, first)


def test_export_refuses_a_county_id_or_key_that_is_not_the_archives(built: Built, tmp_path: Path) -> None:
    with pytest.raises(CountyMismatchError) as exc:
        export(built, tmp_path / "x.zip", county_id="notthecounty")
    assert exc.value.field == "county_id" and "'notthecounty' is not this county's id" in exc.value.message
    with built.engine.connect() as conn, pytest.raises(CountyMismatchError) as exc:
        write_export(conn, Selection(), tmp_path / "y.zip", county_id="jx", county_key=FORGER)
    assert exc.value.field == "county_key" and COUNTY.key_id in exc.value.message
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "y.zip").exists()


# --- case 6: strict JSON, and a line no node can have signed ------------------------------------


def edit_line(files: Files, seq: int, old: bytes, new: bytes, node: str = "dongguan") -> int:
    """One node's envelope line edited; the manifest fixed up and signed again (so that only the
    line's own fault is left). Returns the line's number."""
    lines = files["envelopes.jsonl"].split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b"{") and _at(line, node, seq))
    assert lines[at].count(old) == 1, lines[at]
    lines[at] = lines[at].replace(old, new)
    files["envelopes.jsonl"] = b"\n".join(lines)
    put_manifest(files, manifest_of(files))
    sign(files)
    return at + 1


def _at(line: bytes, node: str, seq: int) -> bool:
    env = envelope.decode(line)
    return (env.node_id, env.seq) == (node, seq)


def test_an_envelope_line_with_a_repeated_key_is_a_fault_naming_the_line(
    built: Built, tmp_path: Path
) -> None:
    files = read(export(built, tmp_path / "all.zip"))
    number = edit_line(files, 8, b'"payload":{', b'"payload":{"amount_fen":99999900,')
    report = verify(write(tmp_path / "payload.zip", files))
    assert report.faults == [
        Fault(
            "dongguan",
            8,
            f"envelopes.jsonl line {number} repeats the key 'amount_fen' in one object (not strict JSON)",
        )
    ], "msgspec keeps the last value, which the node signed: only the repeat is wrong"

    files = read(export(built, tmp_path / "all2.zip"))
    number = edit_line(files, 3, b'"schema":1,', b'"schema":2,"schema":1,', node="huadu")
    report = verify(write(tmp_path / "top.zip", files))
    assert report.faults == [
        Fault(
            "huadu",
            3,
            f"envelopes.jsonl line {number} repeats the key 'schema' in one object (not strict JSON)",
        )
    ]


def test_a_receipt_line_with_a_repeated_key_is_a_fault_naming_the_line(built: Built, tmp_path: Path) -> None:
    files = read(export(built, tmp_path / "all.zip"))
    lines = files["receipts.jsonl"].split(b"\n")
    first = receipt.decode(lines[0])
    lines[0] = lines[0].replace(b'"seq":', b'"seq":99,"seq":', 1)
    files["receipts.jsonl"] = b"\n".join(lines)
    put_manifest(files, manifest_of(files))
    sign(files)
    faults = verify(write(tmp_path / "bad.zip", files)).faults
    assert (
        Fault(
            first.node_id,
            first.seq,
            "receipts.jsonl line 1 repeats the key 'seq' in one object (not strict JSON)",
        )
        in faults
    )


def test_node_receipts_are_split_at_newlines_only_and_a_repeated_key_is_refused_naming_the_line(
    built: Built, tmp_path: Path
) -> None:
    held = built.dongguan.receipts.all()
    lines = [receipt.encode(r) for r in held]
    lines[1] = lines[1].replace(b'","hash":', b'",\r"hash":', 1)  # JSON whitespace, not a line end
    path = tmp_path / "dongguan.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert [c.receipt for c in node_receipts(path)] == held
    lines[2] = lines[2].replace(b'"seq":', b'"seq":1,"seq":', 1)
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(NodeReceiptsError) as exc:
        node_receipts(path)
    assert "line 3 repeats the key 'seq' in one object" in str(exc.value)


def test_a_lone_surrogate_escape_is_an_altered_envelope_at_its_node_and_seq(
    built: Built, tmp_path: Path
) -> None:
    files = read(export(built, tmp_path / "all.zip"))
    number = edit_line(files, 8, b'"org_id":"dongguan"', b'"org_id":"dongguan\\ud800"')
    report = verify(write(tmp_path / "bad.zip", files))
    assert report.faults == [
        Fault(
            "dongguan",
            8,
            f"envelopes.jsonl line {number} is not a valid envelope (altered): "
            "a string holds a lone surrogate escape, which is no text",
        )
    ], "one altered envelope at its seq: not a missing one, and the chain goes on after it"


def test_a_line_that_is_not_utf_8_or_nests_past_any_parser_is_a_fault_not_a_crash(
    built: Built, tmp_path: Path
) -> None:
    for field, where in ((b'"org_id":"', "payload"), (b'"occurred_at":"', "top")):
        files = read(export(built, tmp_path / f"{where}.zip"))
        number = edit_line(files, 8, field, field + b"\xff")
        (fault,) = verify(write(tmp_path / f"{where}-bad.zip", files)).faults
        assert (fault.node_id, fault.seq) == ("dongguan", 8), where
        assert "(altered): " in fault.reason and "utf-8" in fault.reason.lower(), fault
        if where == "top":  # msgspec refuses the line: the reader names it
            assert fault.reason.startswith(f"envelopes.jsonl line {number} is not a valid envelope")

    files = read(export(built, tmp_path / "all.zip"))
    deep = b"[" * 100_000 + b"]" * 100_000
    number = edit_line(files, 8, b'"payload":{', b'"payload":{"x":' + deep + b",")
    faults = verify(write(tmp_path / "deep.zip", files)).faults
    unreadable = f"envelopes.jsonl line {number} is not an envelope"
    assert any(f.node_id == "export" and f.reason.startswith(unreadable) for f in faults), faults
    assert Fault("dongguan", 9, "expected seq 8, found 9 (missing)") in faults
