"""`tongxin audit verify | export | history` run as processes, as an auditor runs them: exit 0 only
when everything verifies, 1 naming node, seq and reason, 2 on bad usage (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from tests.conftest import COUNTY_SECRET
from tests.county.test_audit_integrity import (
    COUNTY,
    DONGGUAN_LENGTH,
    HUADU_LENGTH,
    TAMPERED,
    Built,
    build,
    edit_payload_byte,
    rewrite,
)
from tests.e2e.conftest import tongxin
from tests.ids import member_id, parse_county_secret
from tests.samples import id_number


@pytest.fixture
def engine(county_db_url: str) -> Iterator[Engine]:
    engine = make_engine(county_db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def built(engine: Engine, tmp_path: Path) -> Iterator[Built]:
    b = build(engine, tmp_path / "nodes")
    yield b
    b.dongguan.close()
    b.huadu.close()


@pytest.fixture
def county_key(tmp_path: Path) -> Path:
    path = tmp_path / "county.key"
    COUNTY.save(path)
    return path


def test_verify_passes_an_intact_archive_and_names_each_fault_after_tampering(
    built: Built, county_db_url: str, county_key: Path
) -> None:
    common = ("--db", county_db_url, "--county-key", str(county_key), "--county-id", "jx")
    ok = tongxin("audit", "verify", *common)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (
        f"checked {DONGGUAN_LENGTH + HUADU_LENGTH} envelope(s) of 2 node(s): everything verifies" in ok.stdout
    )

    with built.engine.begin() as conn:
        conn.execute(delete(t.archive).where(t.archive.c.node_id == "dongguan", t.archive.c.seq == TAMPERED))
    bad = tongxin("audit", "verify", *common)
    assert bad.returncode == 1
    assert (
        f"dongguan {TAMPERED + 1} expected seq {TAMPERED}, found {TAMPERED + 1} (missing)"
        in bad.stdout.splitlines()
    )
    as_json = json.loads(tongxin("audit", "verify", *common, "--node", "huadu", "--json").stdout)
    assert (as_json["ok"], [n["node_id"] for n in as_json["nodes"]]) == (True, ["huadu"])


def test_the_nodes_receipts_catch_a_county_that_dropped_its_acknowledged_tail(
    built: Built, county_db_url: str, county_key: Path
) -> None:
    with built.engine.begin() as conn:
        for table in (t.archive, t.receipts):
            conn.execute(delete(table).where(table.c.node_id == "dongguan", table.c.seq > 30))
    common = ("audit", "verify", "--db", county_db_url, "--county-key", str(county_key), "--county-id", "jx")
    assert tongxin(*common).returncode == 0, (
        "a valid prefix, its receipts gone: the archive alone cannot tell"
    )
    caught = tongxin(*common, "--node-receipts", str(built.dongguan.dir.path))
    assert caught.returncode == 1
    assert "(tail truncated after acknowledgement)" in caught.stdout
    assert "the county's receipts lack the node" in caught.stdout


def test_export_then_verify_the_export_and_a_tampered_copy(
    built: Built, county_db_url: str, county_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "jx.zip"
    done = tongxin(
        "audit", "export", "--db", county_db_url, "--county-key", str(county_key), "--county-id", "jx",
        "--node", "dongguan", "--from-seq", "25", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"dongguan: seq 25–{DONGGUAN_LENGTH} ({DONGGUAN_LENGTH - 24})" in done.stdout
    verified = tongxin("audit", "verify", "--export", str(out), "--county-public-key", COUNTY.public_key_hex)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    def edit_first(lines: list[bytes]) -> list[bytes]:
        return [edit_payload_byte(lines[0].decode()).encode(), *lines[1:]]

    rewrite(out, tmp_path / "bad.zip", edit_first)
    bad = tongxin("audit", "verify", "--export", str(tmp_path / "bad.zip"), "--county-key", str(county_key))
    assert bad.returncode == 1
    assert "dongguan 25 hash does not match the envelope's contents (altered)" in bad.stdout.splitlines()


def test_bad_usage_exits_2_with_a_message(
    built: Built, county_db_url: str, county_key: Path, tmp_path: Path
) -> None:
    db = ("--db", county_db_url)
    key = ("--county-key", str(county_key))
    cases = {
        ("audit", "verify"): "give --db URL",
        ("audit", "verify", *db, *key): "give --county-id",
        (
            "audit",
            "verify",
            *db,
            "--county-id",
            "jx",
            "--county-key",
            str(tmp_path / "none.key"),
        ): "county key",
        ("audit", "verify", *db, *key, "--county-id", "jx", "--node", "nowhere"): "unknown node(s): nowhere",
        ("audit", "verify", *db, "--export", "x.zip"): "give it without --db",
        ("audit", "verify", "--export", str(tmp_path / "none.zip")): "not a readable zip",
        ("audit", "verify", "--db", f"sqlite:///{tmp_path / 'none.db'}"): "no database file",
        (
            "audit",
            "export",
            *db,
            "--out",
            str(tmp_path / "a.zip"),
            "--from-seq",
            "5",
            "--to-seq",
            "2",
        ): "to_seq",
        (
            "audit",
            "export",
            *db,
            "--out",
            str(tmp_path / "b.zip"),
            "--node",
            "nowhere",
        ): "unknown node 'nowhere'",
        ("audit", "export", *db, *key, "--out", str(tmp_path / "c.zip")): "give the county id",
        ("audit", "history", "member", "xyz", *db): "member_id",
    }
    for args, words in cases.items():
        done = tongxin(*args)
        assert (done.returncode, words in done.stderr) == (2, True), (args, done.stdout, done.stderr)


def test_history_as_table_and_json(built: Built, county_db_url: str) -> None:
    member = member_id(parse_county_secret(COUNTY_SECRET), id_number(0))
    table = tongxin("audit", "history", "member", member, "--db", county_db_url)
    assert table.returncode == 0 and "member.registered" in table.stdout
    items = json.loads(tongxin("audit", "history", "member", member, "--db", county_db_url, "--json").stdout)
    assert items[0]["type"] == "member.registered" and items[0]["via"] == "subject" and items[0]["receipted"]
    org = json.loads(tongxin("audit", "history", "org", "dongguan", "--db", county_db_url, "--json").stdout)
    assert len(org) > 10 and [i["occurred_at"] for i in org] == sorted(i["occurred_at"] for i in org)


def test_every_audit_command_has_help_with_an_example() -> None:
    for command in ("verify", "export", "history"):
        done = tongxin("audit", command, "--help")
        assert done.returncode == 0 and "Example" in done.stdout, done.stdout
