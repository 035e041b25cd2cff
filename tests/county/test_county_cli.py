"""`tongxin county` commands that read: `quarantine list`, `quarantine claims` and `rebuild`; and
`enrol-node` saying whom a node speaks for (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from services.county.cli import app as county_cli
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections.digest import digest
from tests.county.helpers import enrol_nodes, open_node, record, subject

REGISTERED = {
    "type": "org.registered",
    "occurred_at": "2026-03-01T10:00:00+08:00",
    "payload": {"org_id": "county", "name": "江县县委", "kind": "county_committee"},
}


def rows(table: str) -> list[tuple[str, str]]:
    """(id, reason) of each row of the printed table (a row's first line names its id)."""
    cells = [
        [c.strip() for c in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")
    ]
    return [(c[0], c[4]) for c in cells if c[0]]


def test_quarantine_list_shows_open_messages_and_all_with_all_and_rebuild_counts_the_archive(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    node = open_node(tmp_path, "dongguan")
    try:
        sealed = record(node, [REGISTERED])
    finally:
        node.close()
    ingestor = Ingestor(county_engine, "jx")
    assert ingestor.process([Incoming(b"not an envelope", subject("dongguan"))]) == ["quarantined"]
    assert ingestor.process([Incoming(sealed[0], subject("dongguan"))]) == ["quarantined"]  # not enrolled
    enrol_nodes(county_engine, node)
    assert ingestor.retry_quarantine() == (1, 1)  # the envelope now; the malformed bytes stay

    runner = CliRunner()
    listed = runner.invoke(county_cli, ["quarantine", "list", "--db", county_db_url])
    assert listed.exit_code == 0, listed.output
    assert rows(listed.output) == [("1", "malformed")]
    everything = runner.invoke(county_cli, ["quarantine", "list", "--db", county_db_url, "--all"])
    assert everything.exit_code == 0, everything.output
    assert [id_ for id_, _ in rows(everything.output)] == ["1", "2"]

    rebuilt = runner.invoke(county_cli, ["rebuild", "--db", county_db_url])
    assert rebuilt.exit_code == 0, rebuilt.output
    with county_engine.connect() as conn:
        assert f"rebuilt from 1 archived event(s); digest {digest(conn)}" in rebuilt.output


def test_enrol_node_says_whom_a_node_speaks_for_and_quarantine_claims_lists_what_it_may_not_say(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    office, dongguan = open_node(tmp_path, "county-office"), open_node(tmp_path, "dongguan")
    try:
        tree = record(office, [REGISTERED])
        spoken = record(dongguan, [REGISTERED])  # the tree is the county office's to register
    finally:
        office.close()
        dongguan.close()
    runner = CliRunner()
    for node, extra in ((office, ["--org", "county", "--office"]), (dongguan, [])):
        key = node.first_key.public_key_hex
        enrolled = runner.invoke(county_cli, ["enrol-node", node.node_id, key, "--db", county_db_url, *extra])
        assert enrolled.exit_code == 0, enrolled.output
    key = office.first_key.public_key_hex
    changed = runner.invoke(county_cli, ["enrol-node", "county-office", key, "--db", county_db_url])
    assert changed.exit_code == 0, changed.output  # saying nothing changes nothing
    changed = runner.invoke(
        county_cli, ["enrol-node", "county-office", key, "--db", county_db_url, "--org", "beijing"]
    )
    assert changed.exit_code == 2 and "fixed at its enrolment" in changed.output
    listed = json.loads(runner.invoke(county_cli, ["nodes", "--db", county_db_url, "--json"]).output)
    speaks = {n["node_id"]: (n["org_ids"], n["office"]) for n in listed}
    assert speaks == {"county-office": (["county"], True), "dongguan": (["dongguan"], False)}

    ingestor = Ingestor(county_engine, "jx")
    arriving = [Incoming(tree[0], subject("county-office")), Incoming(spoken[0], subject("dongguan"))]
    assert ingestor.process(arriving) == ["archived"] * 2
    claims = runner.invoke(county_cli, ["quarantine", "claims", "--db", county_db_url])
    assert claims.exit_code == 0, claims.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in claims.output.splitlines() if "│" in line]
    found = [(c[0], c[1], c[2][:10], c[4]) for c in cells if c[0] and c[0] != "node"]  # cut to fit
    assert found == [("dongguan", "1", "org.regist", "office_only")]
    assert "1 refused claim(s)" in claims.output
    none = runner.invoke(
        county_cli, ["quarantine", "claims", "--db", county_db_url, "--reason", "not_own_org"]
    )
    assert "0 refused claim(s)" in none.output
