"""The key lifecycle's commands: `county revoke-key | revocations | rotate-key`, `county enrol-node
--from-seq`, `node rekey`, `node county-key show | add | set` and the county key line of `node
status` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from services.branch_node.cli import app as node_cli
from services.county.cli import app as county_cli
from services.county.ingest.processor import Ingestor
from shared.signing import Signer
from tests.county.helpers import enrol_nodes, feed, record
from tests.county.key_lifecycle import county_node, leak
from tests.samples import fund

runner = CliRunner()


def _ok(app: object, *args: str) -> str:
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("app", "command"),
    [
        (county_cli, ["revoke-key"]),
        (county_cli, ["revocations"]),
        (county_cli, ["rotate-key"]),
        (county_cli, ["enrol-node"]),
        (node_cli, ["rekey"]),
        (node_cli, ["county-key", "show"]),
        (node_cli, ["county-key", "add"]),
        (node_cli, ["county-key", "set"]),
    ],
)
def test_each_command_has_help_with_an_example(app: object, command: list[str]) -> None:
    assert "Example" in _ok(app, *command, "--help")


def test_revoke_rekey_and_re_enrol_from_the_command_line(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    node = county_node(tmp_path, "dongguan", None)
    good = record(node, [fund(i) for i in range(3)])
    enrol_nodes(county_engine, node)
    ingestor = Ingestor(county_engine, "jx")
    thief = leak(node, tmp_path)
    thief.rotate_key()
    assert feed(ingestor, good + [d for _, d in thief.envelopes.after(3, 9)]) == ["archived"] * 4
    record(node, [fund(7)])
    node_dir = str(node.dir.path)
    node.close()
    thief.close()
    db = ("--db", county_db_url)
    revoking = ("revoke-key", "dongguan", "--from-seq", "4", "--county-id", "jx", *db)

    planned = _ok(county_cli, *revoking, "--reason", "PC copied", "--dry-run")
    assert "seq 4  node.key_rotated" in planned and "1 (moved to revoked_archive)" in planned
    assert json.loads(_ok(county_cli, "revocations", "--json", *db)) == [], "a dry run changes nothing"
    done = _ok(county_cli, *revoking, "--reason", "PC copied", "--yes")
    assert "revoked (revocation 1)" in done and "tongxin node rekey --from-seq 4" in done
    again = runner.invoke(county_cli, [*revoking, "--reason", "x", "--yes"])
    assert again.exit_code == 2 and "nothing to revoke" in again.output

    rekeyed = _ok(node_cli, "rekey", "--from-seq", "4", "--yes", "-d", node_dir)
    public = rekeyed.split("public key ")[1].split()[0]
    assert f"enrol-node dongguan {public} --from-seq 4" in rekeyed and "1 envelope(s) signed again" in rekeyed
    wrong = runner.invoke(county_cli, ["enrol-node", "dongguan", public, "--from-seq", "5", *db])
    assert wrong.exit_code == 2 and "--from-seq 4" in wrong.output
    assert "from seq 4" in _ok(county_cli, "enrol-node", "dongguan", public, "--from-seq", "4", *db)
    (row,) = json.loads(_ok(county_cli, "revocations", "--json", *db))
    assert (row["node_id"], row["from_seq"], row["envelopes"], row["reason"]) == (
        "dongguan",
        4,
        1,
        "PC copied",
    )
    assert row["new_key_id"] is not None
    assert "not yet" not in _ok(county_cli, "revocations", *db)


def test_rotate_the_county_key_and_tell_a_node_its_keys(county_db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "county.key"
    old = Signer.generate()
    old.save(path)
    rotating = ("rotate-key", "--county-id", "jx", "--db", county_db_url, "--county-key", str(path))
    rotated = _ok(county_cli, *rotating)
    new = Signer.load(path)
    assert (
        f"county key {old.key_id} → {new.key_id}" in rotated
        and (tmp_path / f"county.key.{old.key_id}").exists()
    )
    busy = runner.invoke(county_cli, list(rotating))
    assert busy.exit_code == 2 and "overlap" in busy.output
    hurried = _ok(county_cli, *rotating, "--compromised")
    assert "tongxin node county-key set" in hurried and Signer.load(path).key_id != new.key_id

    node = county_node(tmp_path, "dongguan", None)
    node_dir = str(node.dir.path)
    node.close()
    assert "county_key: none (receipts unchecked)" in _ok(node_cli, "status", "-d", node_dir)
    assert "none (receipts unchecked)" in _ok(node_cli, "county-key", "show", "-d", node_dir)
    _ok(node_cli, "county-key", "add", old.public_key_hex, "-d", node_dir)
    _ok(node_cli, "county-key", "add", new.public_key_hex, "-d", node_dir)
    shown = _ok(node_cli, "county-key", "show", "-d", node_dir)
    assert old.key_id in shown and new.key_id in shown
    assert f"county_key: {old.key_id}, {new.key_id}" in _ok(node_cli, "status", "-d", node_dir)
    _ok(node_cli, "county-key", "set", new.public_key_hex, "-d", node_dir)
    assert old.key_id not in _ok(node_cli, "county-key", "show", "-d", node_dir)
    bad = runner.invoke(node_cli, ["county-key", "add", "zz", "-d", node_dir])
    assert bad.exit_code == 2 and "64 hex" in bad.output
