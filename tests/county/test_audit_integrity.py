"""The auditor's integrity tools (DESIGN §3.6, docs/audit.md): an untouched archive and its export
verify; every kind of tampering — in the archive or in an export — is named by node, seq and
reason; receipts catch a county that drops what it acknowledged; history lists an entity's events.

Archives are built by recording into real branch nodes (one rotates its key inside its chain)
and ingesting with the county's Ingestor, which issues the receipts; SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, update

from services.branch_node.service import NodeService
from services.county.api.app import create_app
from services.county.audit.archive import archive_nodes, verify_archive
from services.county.audit.export import (
    BrokenArchiveError,
    Selection,
    SelectionError,
    UnknownNodeError,
    write_export,
)
from services.county.audit.export_verify import verify_export
from services.county.audit.history import Kind, history
from services.county.audit.report import Claim, Fault, Report
from services.county.db import tables as t
from services.county.ingest.processor import Ingestor
from shared import envelope, receipt
from shared.envelope import canonical
from shared.signing import Signer, Verifier
from tests.accounts import CountyClient
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import craft, enrol_nodes, feed, open_node, record
from tests.ids import member_id, parse_county_secret
from tests.samples import id_number, mixed

COUNTY = Signer.from_seed_hex("c0" * 32)
COUNTY_PUBLIC = Verifier(COUNTY.public_key)
FORGER = Signer.from_seed_hex("f0" * 32)
TAMPERED = 7
"""The dongguan seq most cases tamper with."""
BEFORE_ROTATION, ROTATED_AT = 20, 21
DONGGUAN_LENGTH, HUADU_LENGTH = 40, 10
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Built:
    engine: Engine
    dongguan: NodeService
    huadu: NodeService
    first_key: Signer
    second_key: Signer
    envelopes: dict[str, list[bytes]]


def build(engine: Engine, root: Path) -> Built:
    """dongguan: 20 events, its key rotated at seq 21, 19 more; huadu: 10; ingested in batches of 9
    (a receipt per node per batch), the receipts delivered to the nodes as the forwarder would."""
    dongguan, huadu = open_node(root, "dongguan"), open_node(root, "huadu")
    record(dongguan, mixed(BEFORE_ROTATION))
    second = dongguan.rotate_key()
    record(dongguan, mixed(DONGGUAN_LENGTH - ROTATED_AT, start=BEFORE_ROTATION))
    record(huadu, mixed(HUADU_LENGTH, start=100))
    envelopes = {n.node_id: [d for _, d in n.envelopes.after(0, 10_000)] for n in (dongguan, huadu)}
    enrol_nodes(engine, dongguan, huadu)
    ingestor = Ingestor(engine, "jx", COUNTY)
    huadu_padded = envelopes["huadu"] + [b""] * (DONGGUAN_LENGTH - HUADU_LENGTH)
    interleaved = [d for pair in zip(envelopes["dongguan"], huadu_padded, strict=True) for d in pair if d]
    feed(ingestor, interleaved, batch=9)
    for r in ingestor.outbox:
        (dongguan if r.node_id == "dongguan" else huadu).receipts.accept(r, r.node_id)
    return Built(engine, dongguan, huadu, dongguan.first_key, second, envelopes)


@pytest.fixture
def built(county_engine: Engine, tmp_path: Path) -> Any:
    b = build(county_engine, tmp_path / "nodes")
    yield b
    b.dongguan.close()
    b.huadu.close()


def check(
    engine: Engine, claims: list[Claim] | None = None, county_id: str = "jx", workers: int = 2
) -> Report:
    with engine.connect() as conn:
        nodes = archive_nodes(conn)
        return verify_archive(
            conn,
            nodes,
            county_key=COUNTY_PUBLIC,
            county_id=county_id,
            node_claims=claims or [],
            workers=workers,
        )


def node_claims(node: NodeService) -> list[Claim]:
    return [Claim(r, "node") for r in node.receipts.all()]


def first_fault(report: Report, node: str = "dongguan") -> Fault:
    return next(f for f in report.faults if f.node_id == node)


# --- an untouched archive -------------------------------------------------------------------


def test_an_untouched_archive_verifies_chains_rotation_key_rows_and_every_receipt(built: Built) -> None:
    report = check(built.engine, node_claims(built.dongguan) + node_claims(built.huadu))
    assert report.ok, report.faults
    assert report.notes == []
    assert report.checked == DONGGUAN_LENGTH + HUADU_LENGTH
    dongguan = report.nodes["dongguan"]
    assert (dongguan.head_seq, dongguan.head_hash) == (
        DONGGUAN_LENGTH,
        envelope.decode(built.envelopes["dongguan"][-1]).hash,
    )
    assert [(k.key_id, k.from_seq) for k in dongguan.keys] == [
        (built.first_key.key_id, 1),
        (built.second_key.key_id, ROTATED_AT + 1),
    ]
    with built.engine.connect() as conn:
        county_receipts = conn.execute(select(t.receipts.c.node_id)).scalars().all()
    assert dongguan.receipts == county_receipts.count("dongguan") + len(built.dongguan.receipts.all()) > 2


def test_signature_checks_inline_on_a_thread_or_in_processes_give_the_same_report(built: Built) -> None:
    """Signatures are checked ahead of the walk on a pool; faults before and after the rotation
    come out the same inline, on one thread, or in two or three worker processes."""
    tamper_edit(built)
    after = ROTATED_AT + 5
    text = edit_payload_byte(_envelope(built.engine, "dongguan", after))
    _set(built.engine, "dongguan", after, envelope=resigned(text, built.first_key).decode())
    reports = [check(built.engine, workers=n).to_dict() for n in (0, 1, 2, 3)]
    assert reports[0] == reports[1] == reports[2] == reports[3]
    designated = f"where the chain designates key {built.second_key.key_id}"
    faults = [(f["seq"], f["reason"]) for f in reports[0]["faults"]]
    assert faults[:3] == [
        (TAMPERED, "hash does not match the envelope's contents (altered)"),
        (after, f"signed by key {built.first_key.key_id} {designated}"),
        (after, "the archive's columns disagree with its envelope: hash"),
    ]
    assert (after + 1, f"prev_hash does not link to seq {after}") in faults


# --- tampering with the archive --------------------------------------------------------------


def _envelope(engine: Engine, node: str, seq: int) -> str:
    with engine.connect() as conn:
        query = select(t.archive.c.envelope).where(t.archive.c.node_id == node, t.archive.c.seq == seq)
        return str(conn.execute(query).scalar_one())


def _set(engine: Engine, node: str, seq: int, **values: Any) -> None:
    with engine.begin() as conn:
        where = (t.archive.c.node_id == node, t.archive.c.seq == seq)
        conn.execute(update(t.archive).where(*where).values(**values))


def edit_payload_byte(text: str) -> str:
    """One byte of the payload changed: the first `dongguan` in it becomes `dongguam`."""
    at = text.index('"payload":')
    end = text.index("dongguan", at) + len("dongguan")
    return text[: end - 1] + "m" + text[end:]


def resigned(text: str, signer: Signer, *, key_id: str | None = None, **changes: Any) -> bytes:
    """The envelope with `changes`, its hash recomputed and signed by `signer` (claiming `key_id`)."""
    tree = {**json.loads(text), **changes}
    body = {k: tree[k] for k in envelope.BODY_FIELDS}
    digest = hashlib.sha256(canonical(body))
    sig = signer.sign(digest.digest()).hex()
    return canonical({**body, "hash": digest.hexdigest(), "sig": sig, "key_id": key_id or signer.key_id})


def forged_event(prev_hash: str, seq: int) -> bytes:
    return craft(
        FORGER,
        node_id="dongguan",
        seq=seq,
        type_="fund.received",
        payload={
            "type": "fund.received",
            "org_id": "dongguan",
            "source": "fiscal",
            "amount_fen": 99_999_900,
            "note": None,
        },
        prev_hash=prev_hash,
    )


def tamper_edit(b: Built) -> None:
    _set(
        b.engine, "dongguan", TAMPERED, envelope=edit_payload_byte(_envelope(b.engine, "dongguan", TAMPERED))
    )


def tamper_delete(b: Built) -> None:
    with b.engine.begin() as conn:
        conn.execute(delete(t.archive).where(t.archive.c.node_id == "dongguan", t.archive.c.seq == TAMPERED))


def tamper_insert(b: Built) -> None:
    """A forged event put in at TAMPERED (later rows renumbered), its key listed in node_keys."""
    with b.engine.begin() as conn:
        for seq in range(DONGGUAN_LENGTH, TAMPERED - 1, -1):
            where = (t.archive.c.node_id == "dongguan", t.archive.c.seq == seq)
            conn.execute(update(t.archive).where(*where).values(seq=seq + 1))
        prev = envelope.decode(_text(conn, TAMPERED - 1).encode()).hash
        env = envelope.decode(forged_event(prev, TAMPERED))
        conn.execute(insert(t.archive).values(**_row(env)))
        conn.execute(
            insert(t.node_keys).values(
                key_id=FORGER.key_id, node_id="dongguan", public_key=FORGER.public_key_hex,
                valid_from="2026-03-01T00:00:00.000000Z", valid_from_seq=TAMPERED,
            )
        )  # fmt: skip


def _text(conn: Any, seq: int) -> str:
    query = select(t.archive.c.envelope).where(t.archive.c.node_id == "dongguan", t.archive.c.seq == seq)
    return str(conn.execute(query).scalar_one())


def _row(env: envelope.Envelope) -> dict[str, Any]:
    columns = ("node_id", "seq", "event_id", "type", "schema", "occurred_at", "recorded_at", "hash")
    return {
        **{c: getattr(env, c) for c in columns},
        "subject": None,
        "received_at": env.recorded_at,
        "envelope": envelope.encode(env).decode(),
    }


def tamper_swap(b: Built) -> None:
    """The envelopes of TAMPERED and the next seq swap places."""
    first, second = _envelope(b.engine, "dongguan", TAMPERED), _envelope(b.engine, "dongguan", TAMPERED + 1)
    _set(b.engine, "dongguan", TAMPERED, envelope=second)
    _set(b.engine, "dongguan", TAMPERED + 1, envelope=first)


def tamper_foreign_key(b: Built) -> None:
    """Altered, its hash recomputed and re-signed by a foreign key."""
    text = edit_payload_byte(_envelope(b.engine, "dongguan", TAMPERED))
    forged = envelope.decode(resigned(text, FORGER))
    _set(b.engine, "dongguan", TAMPERED, envelope=envelope.encode(forged).decode(), hash=forged.hash)


def tamper_rotated_key_row(b: Built) -> None:
    """The node_keys row of the key rotated in at seq 21 replaced by a forger's."""
    with b.engine.begin() as conn:
        conn.execute(
            update(t.node_keys)
            .where(t.node_keys.c.key_id == b.second_key.key_id)
            .values(key_id=FORGER.key_id, public_key=FORGER.public_key_hex)
        )


ARCHIVE_TAMPERING: dict[str, tuple[Callable[[Built], None], int, str]] = {
    "edit a payload byte": (tamper_edit, TAMPERED, "hash does not match the envelope's contents (altered)"),
    "delete an envelope": (
        tamper_delete,
        TAMPERED + 1,
        f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)",
    ),
    "insert a forged one": (tamper_insert, TAMPERED, f"signed by unknown key {FORGER.key_id}"),
    "swap two": (tamper_swap, TAMPERED + 1, f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)"),
    "re-sign with a foreign key": (tamper_foreign_key, TAMPERED, f"signed by unknown key {FORGER.key_id}"),
    "replace the row of a rotated key": (
        tamper_rotated_key_row,
        ROTATED_AT + 1,
        "node_keys has no row for key {second}, designated from seq 22",
    ),
}


@pytest.mark.parametrize("kind", ARCHIVE_TAMPERING)
def test_tampering_with_the_archive_is_named_by_node_seq_and_reason(built: Built, kind: str) -> None:
    tamper, seq, reason = ARCHIVE_TAMPERING[kind]
    tamper(built)
    report = check(built.engine)
    fault = first_fault(report)
    assert (fault.node_id, fault.seq) == ("dongguan", seq), report.faults
    assert fault.reason.startswith(reason.format(second=built.second_key.key_id)), report.faults
    assert report.nodes["huadu"].faults == 0, "the other node is untouched"


def test_swapped_rows_are_named_by_the_chain_and_by_their_columns(built: Built) -> None:
    tamper_swap(built)
    reasons = [(f.seq, f.reason.split(", type")[0]) for f in check(built.engine).faults]
    assert reasons == [
        (TAMPERED + 1, f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)"),
        (TAMPERED, "the archive's columns disagree with its envelope: seq, hash, event_id"),
        (TAMPERED, f"expected seq {TAMPERED + 2}, found {TAMPERED} (out of order or repeated)"),
        (TAMPERED + 1, "the archive's columns disagree with its envelope: seq, hash, event_id"),
    ], "seq 9 links to seq 8 again: the swap is reported once"


def test_a_forger_key_slipped_into_node_keys_is_named_even_where_the_chain_holds(built: Built) -> None:
    tamper_insert(built)
    reasons = [(f.seq, f.reason) for f in check(built.engine).faults]
    assert (
        TAMPERED,
        f"node_keys lists key {FORGER.key_id} (seqs 7–…), which the chain never designates",
    ) in reasons


def test_a_replaced_rotated_key_row_is_named_and_re_signing_with_it_fails_the_chain(built: Built) -> None:
    tamper_rotated_key_row(built)
    for seq in range(ROTATED_AT + 1, DONGGUAN_LENGTH + 1):
        text = _envelope(built.engine, "dongguan", seq)
        prev = envelope.decode(_envelope(built.engine, "dongguan", seq - 1).encode()).hash
        _set(built.engine, "dongguan", seq, envelope=resigned(text, FORGER, prev_hash=prev).decode())
    faults = [(f.seq, f.reason) for f in check(built.engine).faults]
    assert (ROTATED_AT + 1, f"signed by unknown key {FORGER.key_id}") in faults
    assert any("which the chain never designates" in r for _, r in faults)


def test_an_edited_column_beside_an_intact_envelope_is_named(built: Built) -> None:
    """Projections and history read the columns: moving an event in business time is caught."""
    _set(built.engine, "dongguan", TAMPERED, occurred_at="2020-01-01T00:00:00.000000Z")
    (fault,) = check(built.engine).faults
    assert fault == Fault(
        "dongguan", TAMPERED, "the archive's columns disagree with its envelope: occurred_at"
    )


# --- receipts ----------------------------------------------------------------------------------


def truncate(b: Built, keep: int, *, receipts_too: bool) -> None:
    with b.engine.begin() as conn:
        conn.execute(delete(t.archive).where(t.archive.c.node_id == "dongguan", t.archive.c.seq > keep))
        if receipts_too:
            conn.execute(
                delete(t.receipts).where(t.receipts.c.node_id == "dongguan", t.receipts.c.seq > keep)
            )


def test_a_tail_truncated_after_a_receipt_is_caught_by_the_county_receipt(built: Built) -> None:
    truncate(built, 30, receipts_too=False)
    report = check(built.engine)
    head = report.nodes["dongguan"].head_seq
    assert head == 30 and not report.ok
    assert all(f.seq > 30 and "(tail truncated after acknowledgement)" in f.reason for f in report.faults)
    assert (
        Fault(
            "dongguan",
            DONGGUAN_LENGTH,
            f"county receipt acknowledges seq {DONGGUAN_LENGTH}, but the archive ends at seq 30 "
            "(tail truncated after acknowledgement)",
        )
        in report.faults
    )


def test_a_county_that_drops_acknowledged_events_and_its_receipts_is_caught_by_the_nodes_receipts(
    built: Built,
) -> None:
    truncate(built, 30, receipts_too=True)
    assert check(built.engine).ok, "the archive alone is a valid prefix: only the node can tell"
    report = check(built.engine, node_claims(built.dongguan))
    held = max(r.receipt.seq for r in node_claims(built.dongguan))
    assert (
        Fault(
            "dongguan",
            held,
            f"node receipt acknowledges seq {held}, but the archive ends at seq 30 "
            "(tail truncated after acknowledgement)",
        )
        in report.faults
    )
    assert (
        Fault("dongguan", held, f"the county's receipts lack the node receipt for seq {held}")
        in report.faults
    )


def test_an_acknowledged_envelope_dropped_from_the_middle_is_named_by_chain_and_receipt(built: Built) -> None:
    with built.engine.begin() as conn:
        acked = (
            conn.execute(select(t.receipts.c.seq).where(t.receipts.c.node_id == "dongguan")).scalars().first()
        )
        conn.execute(delete(t.archive).where(t.archive.c.node_id == "dongguan", t.archive.c.seq == acked))
    faults = check(built.engine).faults
    assert faults[0] == Fault("dongguan", acked + 1, f"expected seq {acked}, found {acked + 1} (missing)")
    assert (
        Fault(
            "dongguan",
            acked,
            f"county receipt acknowledges seq {acked}, which is missing from the archive "
            "(dropped after acknowledgement)",
        )
        in faults
    )


def test_an_acknowledged_envelope_altered_and_re_signed_contradicts_its_receipt(built: Built) -> None:
    with built.engine.connect() as conn:
        acked = (
            conn.execute(select(t.receipts.c.seq).where(t.receipts.c.node_id == "dongguan")).scalars().first()
        )
    text = edit_payload_byte(_envelope(built.engine, "dongguan", acked))
    _set(built.engine, "dongguan", acked, envelope=resigned(text, FORGER).decode())
    reasons = [f.reason for f in check(built.engine).faults if f.seq == acked]
    assert any(
        r.startswith(f"county receipt for seq {acked} acknowledges hash") and "altered" in r for r in reasons
    )


def test_a_forged_or_foreign_receipt_is_refused(built: Built) -> None:
    with built.engine.begin() as conn:
        seq = conn.execute(select(t.receipts.c.seq).where(t.receipts.c.node_id == "huadu")).scalars().first()
        where = (t.receipts.c.node_id == "huadu", t.receipts.c.seq == seq)
        conn.execute(update(t.receipts).where(*where).values(issued_at="2030-01-01T00:00:00.000000Z"))
    (fault,) = check(built.engine).faults
    assert fault == Fault(
        "huadu", seq, f"county receipt for seq {seq} does not verify under the county key {COUNTY.key_id}"
    )
    report = check(built.engine, node_claims(built.huadu), county_id="gz")
    assert any(f.reason.endswith("was issued by county 'jx', not 'gz'") for f in report.faults)


def test_node_receipts_are_read_from_the_nodes_data_dir_and_from_jsonl(built: Built, tmp_path: Path) -> None:
    from services.county.audit.node_receipts import node_receipts

    held = built.dongguan.receipts.all()
    from_dir = node_receipts(built.dongguan.dir.path)
    assert [c.receipt for c in from_dir] == held and len(held) > 2
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_bytes(b"".join(receipt.encode(r) + b"\n" for r in held))
    assert [c.receipt for c in node_receipts(jsonl)] == held


# --- exports -----------------------------------------------------------------------------------


def export(b: Built, path: Path, sel: Selection | None = None) -> dict[str, Any]:
    with b.engine.connect() as conn:
        return write_export(conn, sel or Selection(), path, county_id="jx", county_key=COUNTY)


def test_an_export_holds_the_documented_files_and_verifies(built: Built, tmp_path: Path) -> None:
    manifest = export(built, tmp_path / "all.zip")
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        assert sorted(zf.namelist()) == [
            "envelopes.jsonl",
            "keys.json",
            "manifest.json",
            "manifest.sig",
            "receipts.jsonl",
        ]
        lines = zf.read("envelopes.jsonl").splitlines()
        keys = json.loads(zf.read("keys.json"))
        for name, file in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == file["sha256"]
    assert lines == built.envelopes["dongguan"] + built.envelopes["huadu"], "node then seq, as signed"
    assert keys["nodes"]["dongguan"] == {
        "key_id": built.first_key.key_id,
        "public_key": built.first_key.public_key_hex,
    }
    assert keys["county"]["key_id"] == COUNTY.key_id
    assert manifest["totals"]["envelopes"] == DONGGUAN_LENGTH + HUADU_LENGTH
    assert manifest["nodes"]["dongguan"]["anchor"]["seq"] == 0
    report = verify_export(
        tmp_path / "all.zip", county_key=COUNTY_PUBLIC, node_claims=node_claims(built.dongguan)
    )
    assert report.ok and report.notes == [], report.faults
    assert report.checked == DONGGUAN_LENGTH + HUADU_LENGTH


def test_a_range_after_a_rotation_carries_its_anchor_and_verifies(built: Built, tmp_path: Path) -> None:
    sel = Selection(nodes=["dongguan"], from_seq=ROTATED_AT + 5, to_seq=ROTATED_AT + 12)
    manifest = export(built, tmp_path / "part.zip", sel)
    node = manifest["nodes"]["dongguan"]
    before = envelope.decode(built.envelopes["dongguan"][ROTATED_AT + 3])
    assert node["anchor"] == {
        "seq": ROTATED_AT + 4,
        "hash": before.hash,
        "key_id": built.second_key.key_id,
        "public_key": built.second_key.public_key_hex,
    }
    assert (node["count"], node["first_seq"], node["last_seq"]) == (8, ROTATED_AT + 5, ROTATED_AT + 12)
    report = verify_export(
        tmp_path / "part.zip", county_key=COUNTY_PUBLIC, node_claims=node_claims(built.dongguan)
    )
    assert report.ok, report.faults


def test_a_date_range_selects_by_the_nodes_clock(built: Built, tmp_path: Path) -> None:
    today = envelope.decode(built.envelopes["dongguan"][0]).recorded
    from shared.catalog.base import CHINA_STANDARD_TIME

    day = today.astimezone(CHINA_STANDARD_TIME).date()
    manifest = export(built, tmp_path / "d.zip", Selection(date_from=day, date_to=day))
    assert manifest["totals"]["envelopes"] == DONGGUAN_LENGTH + HUADU_LENGTH
    with pytest.raises(SelectionError) as exc:
        export(built, tmp_path / "e.zip", Selection(date_from=day.replace(year=day.year + 1)))
    assert (exc.value.field, "nothing to export" in exc.value.message) == ("nodes", True)


@pytest.mark.parametrize(
    ("sel", "field", "words"),
    [
        (Selection(nodes=["nowhere"]), "nodes", "unknown node 'nowhere'"),
        (Selection(from_seq=0), "from_seq", "must be at least 1"),
        (Selection(from_seq=9, to_seq=3), "to_seq", "below from_seq 9"),
        (Selection(from_seq=1_000), "nodes", "nothing to export"),
        (Selection(nodes=["huadu"], from_seq=11), "nodes", "node 'huadu' has no archived envelope"),
        (Selection(from_seq=2, date_from=date(2026, 1, 1)), "from", "not both"),
        (Selection(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1)), "to", "before from"),
    ],
)
def test_a_bad_selection_is_refused_naming_the_option(
    built: Built, tmp_path: Path, sel: Selection, field: str, words: str
) -> None:
    with pytest.raises(SelectionError) as exc:
        export(built, tmp_path / "x.zip", sel)
    assert exc.value.field == field and words in exc.value.message
    assert isinstance(exc.value, UnknownNodeError) == words.startswith("unknown")
    assert not (tmp_path / "x.zip").exists()


def test_an_archive_broken_before_the_range_cannot_anchor_it(built: Built, tmp_path: Path) -> None:
    tamper_edit_rotation = edit_payload_byte(
        _envelope(built.engine, "dongguan", ROTATED_AT).replace('"new_key_id"', '"dongguan":0,"new_key_id"')
    )
    _set(built.engine, "dongguan", ROTATED_AT, envelope=tamper_edit_rotation)
    with pytest.raises(BrokenArchiveError) as exc:
        export(built, tmp_path / "x.zip", Selection(nodes=["dongguan"], from_seq=30))
    assert f"broken at seq {ROTATED_AT}" in exc.value.message


def rewrite(
    src: Path, dst: Path, change: Callable[[list[bytes]], list[bytes]], *, fix_manifest: bool = True
) -> None:
    """A copy of an export with envelopes.jsonl changed; with `fix_manifest`, as a careful forger
    would leave it: the manifest's SHA-256 of the file updated."""
    with zipfile.ZipFile(src) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    lines = change(files["envelopes.jsonl"].splitlines())
    files["envelopes.jsonl"] = b"".join(line + b"\n" for line in lines)
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        manifest["files"]["envelopes.jsonl"]["sha256"] = hashlib.sha256(files["envelopes.jsonl"]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def at(seq: int) -> int:
    return seq - 1


def x_edit(lines: list[bytes]) -> list[bytes]:
    lines[at(TAMPERED)] = edit_payload_byte(lines[at(TAMPERED)].decode()).encode()
    return lines


def x_delete(lines: list[bytes]) -> list[bytes]:
    del lines[at(TAMPERED)]
    return lines


def x_insert(lines: list[bytes]) -> list[bytes]:
    prev = envelope.decode(lines[at(TAMPERED - 1)]).hash
    lines.insert(at(TAMPERED), forged_event(prev, TAMPERED))
    return lines


def x_swap(lines: list[bytes]) -> list[bytes]:
    lines[at(TAMPERED)], lines[at(TAMPERED + 1)] = lines[at(TAMPERED + 1)], lines[at(TAMPERED)]
    return lines


def x_truncate(lines: list[bytes]) -> list[bytes]:
    return [
        line for line in lines if not (b'"node_id":"dongguan"' in line and envelope.decode(line).seq > 30)
    ]


def x_foreign_key(lines: list[bytes]) -> list[bytes]:
    lines[at(TAMPERED)] = resigned(edit_payload_byte(lines[at(TAMPERED)].decode()), FORGER)
    return lines


def x_rotate_to_forger(lines: list[bytes]) -> list[bytes]:
    """The rotation names the forger's key, whose signatures then follow: the rotation itself
    cannot be signed by the node's key."""
    rotation = json.loads(lines[at(ROTATED_AT)])
    payload = {**rotation["payload"], "new_key_id": FORGER.key_id, "new_public_key": FORGER.public_key_hex}
    lines[at(ROTATED_AT)] = resigned(
        lines[at(ROTATED_AT)].decode(), FORGER, key_id=rotation["key_id"], payload=payload
    )
    for seq in range(ROTATED_AT + 1, DONGGUAN_LENGTH + 1):
        prev = envelope.decode(lines[at(seq - 1)]).hash
        lines[at(seq)] = resigned(lines[at(seq)].decode(), FORGER, prev_hash=prev)
    return lines


EXPORT_TAMPERING: dict[str, tuple[Callable[[list[bytes]], list[bytes]], int | None, str]] = {
    "edit a payload byte": (x_edit, TAMPERED, "hash does not match the envelope's contents (altered)"),
    "delete an envelope": (
        x_delete,
        TAMPERED + 1,
        f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)",
    ),
    "insert a forged one": (x_insert, TAMPERED, f"signed by unknown key {FORGER.key_id}"),
    "swap two": (x_swap, TAMPERED + 1, f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)"),
    "truncate the tail after a receipt": (x_truncate, None, "county receipt acknowledges seq"),
    "re-sign with a foreign key": (x_foreign_key, TAMPERED, f"signed by unknown key {FORGER.key_id}"),
    "rotate to a forger's key": (x_rotate_to_forger, ROTATED_AT, "signature does not verify under key"),
}


@pytest.mark.parametrize("kind", EXPORT_TAMPERING)
def test_tampering_with_an_export_is_named_by_node_seq_and_reason(
    built: Built, tmp_path: Path, kind: str
) -> None:
    change, seq, reason = EXPORT_TAMPERING[kind]
    export(built, tmp_path / "all.zip")
    rewrite(tmp_path / "all.zip", tmp_path / "bad.zip", change)
    report = verify_export(tmp_path / "bad.zip", county_key=COUNTY_PUBLIC)
    fault = first_fault(report)
    assert fault.seq == seq if seq is not None else fault.seq > 30, report.faults
    assert fault.reason.startswith(reason), report.faults
    assert report.nodes["huadu"].faults == 0


def test_an_export_changed_without_fixing_its_manifest_fails_its_sha256(built: Built, tmp_path: Path) -> None:
    export(built, tmp_path / "all.zip")
    rewrite(tmp_path / "all.zip", tmp_path / "bad.zip", x_swap, fix_manifest=False)
    faults = verify_export(tmp_path / "bad.zip", county_key=COUNTY_PUBLIC).faults
    assert (
        Fault("export", 0, "envelopes.jsonl does not match its SHA-256 in manifest.json (altered)") in faults
    )


def test_an_export_with_a_foreign_first_key_or_an_added_file_does_not_verify(
    built: Built, tmp_path: Path
) -> None:
    export(built, tmp_path / "all.zip")
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    keys, manifest = json.loads(files["keys.json"]), json.loads(files["manifest.json"])
    forged = {"key_id": FORGER.key_id, "public_key": FORGER.public_key_hex}
    keys["nodes"]["dongguan"] = manifest["nodes"]["dongguan"]["first_key"] = forged
    manifest["nodes"]["dongguan"]["anchor"].update(forged)
    files["keys.json"] = json.dumps(keys).encode()
    manifest["files"]["keys.json"]["sha256"] = hashlib.sha256(files["keys.json"]).hexdigest()
    files["manifest.json"] = json.dumps(manifest).encode()
    files["notes.txt"] = b"nothing to see"
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    report = verify_export(tmp_path / "bad.zip", county_key=COUNTY_PUBLIC)
    assert first_fault(report) == Fault("dongguan", 1, f"signed by unknown key {built.first_key.key_id}")
    assert Fault("export", 0, "notes.txt is not listed in manifest.json (added)") in report.faults
    assert report.nodes["huadu"].faults == 0


def test_a_file_that_is_not_an_export_is_refused_and_a_broken_manifest_is_a_fault(tmp_path: Path) -> None:
    from services.county.audit.export_verify import ExportFormatError

    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(ExportFormatError):
        verify_export(tmp_path / "x.zip")
    with zipfile.ZipFile(tmp_path / "y.zip", "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "tongxin-audit-export", "version": 1, "nodes": 3}))
    (fault,) = verify_export(tmp_path / "y.zip").faults
    assert fault.node_id == "export" and fault.reason.startswith("manifest.json is malformed")


def test_a_truncated_export_without_its_receipts_is_caught_by_the_nodes_receipts(
    built: Built, tmp_path: Path
) -> None:
    export(built, tmp_path / "all.zip")
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    files["receipts.jsonl"] = b""  # the county removed its own receipts too
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    rewrite(tmp_path / "bad.zip", tmp_path / "bad2.zip", x_truncate)
    report = verify_export(
        tmp_path / "bad2.zip", county_key=COUNTY_PUBLIC, node_claims=node_claims(built.dongguan)
    )
    held = max(c.receipt.seq for c in node_claims(built.dongguan))
    assert any(f.seq == held and f.reason.startswith("node receipt acknowledges") for f in report.faults)


# --- the standalone verifier in docs/audit.md --------------------------------------------------


def standalone(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- audit:verify_export\.py -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/audit.md holds the standalone verifier"
    script = tmp_path / "verify_export.py"
    script.write_text(match.group(1), encoding="utf-8")
    return script


def run_standalone(script: Path, export_zip: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(export_zip), *args], capture_output=True, text=True, check=False
    )


def test_the_documented_verifier_accepts_real_exports_and_rejects_tampered_ones(
    built: Built, tmp_path: Path
) -> None:
    script = standalone(tmp_path)
    export(built, tmp_path / "all.zip")
    export(built, tmp_path / "part.zip", Selection(nodes=["dongguan"], from_seq=ROTATED_AT + 3))
    for good in ("all.zip", "part.zip"):
        done = run_standalone(script, tmp_path / good, COUNTY.public_key_hex)
        assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stdout + done.stderr
    for name, (change, seq, _) in EXPORT_TAMPERING.items():
        rewrite(tmp_path / "all.zip", tmp_path / "bad.zip", change)
        done = run_standalone(script, tmp_path / "bad.zip")
        assert done.returncode == 1, name
        lines = done.stdout.splitlines()
        assert lines[0].startswith("export - manifest.json is not signed by the county key"), name
        first = next(line for line in lines if line.startswith("dongguan ")).split(" ", 2)
        assert int(first[1]) == (seq or DONGGUAN_LENGTH), (name, done.stdout)
    rewrite(tmp_path / "all.zip", tmp_path / "bad.zip", x_edit, fix_manifest=False)
    done = run_standalone(script, tmp_path / "bad.zip")
    assert "export - envelopes.jsonl does not match its SHA-256 in the manifest" in done.stdout


# --- history -----------------------------------------------------------------------------------


def test_history_lists_a_members_events_in_business_order_with_receipt_status(
    county_engine: Engine, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    try:
        member = member_id(parse_county_secret(COUNTY_SECRET), id_number(0))
        items = [
            *mixed(3),
            {
                "type": "orglife.held",
                "occurred_at": "2026-01-04T09:00:00+08:00",
                "payload": {
                    "org_id": "dongguan",
                    "kind": "theme_day",
                    "topic": "主题党日",
                    "attendees": [member],
                },
            },
            {
                "type": "member.contact_lost",
                "occurred_at": "2026-02-01T09:00:00+08:00",
                "payload": {"member_id": member},
            },
        ]
        datas = record(node, items)
        enrol_nodes(county_engine, node)
        feed(Ingestor(county_engine, "jx", COUNTY), datas[:4])
        feed(Ingestor(county_engine, "jx"), datas[4:])  # no county key: no receipt for seq 5
        with county_engine.connect() as conn:
            found = history(conn, Kind.MEMBER, member)
            org = history(conn, Kind.ORG, "dongguan")
    finally:
        node.close()
    assert [(i.seq, i.type, i.via, i.receipted) for i in found] == [
        (4, "orglife.held", "attendees", True),
        (1, "member.registered", "subject", True),
        (5, "member.contact_lost", "subject", False),
    ]
    assert found[1].hash == envelope.decode(datas[0]).hash
    assert {(i.seq, i.via) for i in org} >= {(2, "org_id"), (3, "org_id"), (4, "org_id")}


def test_history_refuses_a_malformed_id(county_engine: Engine) -> None:
    from shared.errors import FieldError

    with county_engine.connect() as conn, pytest.raises(FieldError) as exc:
        history(conn, Kind.MEMBER, "not-hex")
    assert exc.value.field == "member_id"


# --- HTTP ----------------------------------------------------------------------------------------


def test_the_api_verifies_shows_history_and_exports(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "county.key"
    COUNTY.save(key_file)
    monkeypatch.setenv("TONGXIN_COUNTY_KEY", str(key_file))
    monkeypatch.setenv("TONGXIN_COUNTY_ID", "jx")
    client = CountyClient(create_app(built.engine))
    body = client.get("/api/v1/audit/verify").json()
    assert (body["ok"], body["checked"], body["notes"]) == (True, DONGGUAN_LENGTH + HUADU_LENGTH, [])
    assert client.get("/api/v1/audit/verify", params={"node": "nowhere"}).status_code == 404
    tamper_delete(built)
    body = client.get("/api/v1/audit/verify", params={"node": "dongguan"}).json()
    assert body["faults"][0] == {
        "node_id": "dongguan",
        "seq": TAMPERED + 1,
        "reason": f"expected seq {TAMPERED}, found {TAMPERED + 1} (missing)",
    }
    assert [n["node_id"] for n in body["nodes"]] == ["dongguan"]

    reply = client.get("/api/v1/audit/export", params={"nodes": "huadu", "from_seq": 3, "to_seq": 8})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/zip"
    assert "attachment" in reply.headers["content-disposition"]
    (tmp_path / "api.zip").write_bytes(reply.content)
    report = verify_export(tmp_path / "api.zip", county_key=COUNTY_PUBLIC)
    assert report.ok and report.checked == 6
    bad = client.get("/api/v1/audit/export", params={"from_seq": 5, "to_seq": 2})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "to_seq"
    assert client.get("/api/v1/audit/export", params={"nodes": "nowhere"}).status_code == 404
    assert client.get("/api/v1/audit/export", params={"from": "2026-13-01"}).status_code == 422

    member = member_id(parse_county_secret(COUNTY_SECRET), id_number(0))
    items = client.get(f"/api/v1/audit/history/member/{member}").json()["items"]
    assert items[0]["type"] == "member.registered" and items[0]["node_id"] == "dongguan"
    assert client.get("/api/v1/audit/history/member/" + "0" * 32).status_code == 404
    assert client.get("/api/v1/audit/history/member/xyz").status_code == 422
    assert client.get("/api/v1/audit/history/org/dongguan").status_code == 200
    assert client.get("/api/v1/audit/history/org/huadu").status_code == 404


def test_the_api_notes_what_it_could_not_check(
    built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TONGXIN_COUNTY_ID", raising=False)
    monkeypatch.setenv("TONGXIN_COUNTY_KEY", str(tmp_path / "absent.key"))
    body = CountyClient(create_app(built.engine)).get("/api/v1/audit/verify").json()
    assert body["ok"] and body["notes"] == ["county receipts not checked: the county id is unknown"]
