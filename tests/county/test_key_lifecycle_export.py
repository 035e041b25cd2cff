"""An archive with a revoked and re-enrolled node and a rotated county key, exported and verified:
by `audit verify --export` given the old or the new county key, and by the standalone verifier
of docs/audit.md §6 — a full export and one that starts after the re-enrolment (its anchor is
the re-enrolled key). The archive itself verifies too (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from services.branch_node.rekey import rekey
from services.county.audit.archive import verify_archive
from services.county.audit.export import write_export
from services.county.audit.export_plan import Selection
from services.county.audit.export_verify import verify_export
from services.county.ingest.processor import Ingestor
from services.county.key_rotation import rotate
from services.county.keys import load_or_create, load_signing
from services.county.reenrolment import reenrol
from services.county.revocation import revoke
from shared.signing import Signer, Verifier
from tests.county.helpers import enrol_nodes, feed, record
from tests.county.key_lifecycle import county_node, leak
from tests.county.test_audit_integrity import run_standalone, standalone
from tests.samples import fund, registration


def test_an_export_after_a_revocation_and_a_county_key_rotation_verifies(
    county_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "county.key"
    old = load_or_create(path)
    node = county_node(tmp_path, "dongguan", old.public_key_hex)
    first = record(node, [registration(i) for i in range(2)] + [fund(i) for i in range(2)])
    enrol_nodes(county_engine, node)
    assert feed(Ingestor(county_engine, "jx", load_signing(path, county_engine)), first) == ["archived"] * 4
    thief = leak(node, tmp_path)
    thief.rotate_key()
    stolen = [d for _, d in thief.envelopes.after(4, 9)] + record(thief, [fund(90)])
    assert feed(Ingestor(county_engine, "jx", load_signing(path, county_engine)), stolen) == ["archived"] * 2
    record(node, [fund(i) for i in range(2, 6)])
    with county_engine.begin() as conn:
        revoke(conn, "jx", "dongguan", 5, "a copy of the node's disk was sold")
    new_key = rekey(node, 5).key
    with county_engine.begin() as conn:
        reenrol(conn, "dongguan", new_key.public_key_hex, 5)
        rotated = rotate(conn, path, "jx", overlap=timedelta(days=3))
    rotated.install(path)
    new = Signer.load(path)
    again = [d for _, d in node.envelopes.after(4, 99)]
    assert feed(Ingestor(county_engine, "jx", load_signing(path, county_engine)), again) == ["archived"] * 4

    with county_engine.connect() as conn:
        for trusted in (old, new):
            report = verify_archive(
                conn, ["dongguan"], county_key=Verifier(trusted.public_key), county_id="jx", workers=0
            )
            assert report.faults == [], report.faults
        write_export(conn, Selection(), tmp_path / "all.zip", county_id="jx", county_key=new)
        write_export(conn, Selection(from_seq=6), tmp_path / "part.zip", county_id="jx", county_key=new)
    with zipfile.ZipFile(tmp_path / "part.zip") as zf:
        manifest, keys = json.loads(zf.read("manifest.json")), json.loads(zf.read("keys.json"))
    assert manifest["nodes"]["dongguan"]["anchor"]["key_id"] == new_key.key_id
    assert [e["from_seq"] for e in keys["nodes"]["dongguan"]["reenrolled"]] == [5]
    assert [h["key_id"] for h in keys["county_handovers"]] == [new.key_id]
    script = standalone(tmp_path)
    for name in ("all.zip", "part.zip"):
        for trusted in (old, new):
            report = verify_export(tmp_path / name, county_key=Verifier(trusted.public_key), workers=0)
            assert report.faults == [], (name, report.faults)
            done = run_standalone(script, tmp_path / name, trusted.public_key_hex)
            assert (done.returncode, done.stdout.strip()) == (0, "OK"), done.stdout + done.stderr
    stranger = run_standalone(script, tmp_path / "all.zip", Signer.generate().public_key_hex)
    assert stranger.returncode == 1, "a key the county never handed over to verifies nothing"
