"""`tongxin node backup | restore` and `tongxin county backup | restore` run as processes, as county IT
runs them: a node backed up while it records, restored in place or beside; a county on SQLite and on
PostgreSQL restored to exactly what was backed up; a changed byte found before anything is restored."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.branch_node.inputs import parse_item
from services.branch_node.lock import exclusive
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.processor import Ingestor
from services.county.keys import load_or_create
from shared import envelope
from shared.backup import MANIFEST, check_files
from shared.backup import BackupFile as File
from tests.conftest import make_node_dir, postgres_database
from tests.county.helpers import count, enrol_nodes, feed, open_node, record
from tests.e2e.conftest import TONGXIN, tongxin
from tests.repair.site import COUNTY_KEY, site, wait_until
from tests.samples import fund, mixed, registration
from tongxin.natsd import EmbeddedNats


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def logged(data: Path) -> int:
    """The last seq in a node's log.db, read beside whoever is writing it."""
    db = sqlite3.connect(data / "log.db", timeout=30)
    try:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0])
    finally:
        db.close()


def manifest_of(backup: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((backup / MANIFEST).read_text())
    return loaded


def files_of(manifest: dict[str, Any]) -> list[File]:
    return [File(**f) for f in manifest["files"]]


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def rotated_node(tmp_path: Path) -> Iterator[NodeService]:
    """A node that has rotated its key once (so keys/ holds a key) and recorded a few events."""
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        node.record([parse_item(fund(i), node.keys) for i in range(5)])
        node.rotate_key()
        node.record([parse_item(fund(i), node.keys) for i in range(5, 10)])
        yield node
    finally:
        node.close()


def test_a_node_backed_up_while_it_records_is_a_consistent_copy_with_its_modes(
    rotated_node: NodeService, tmp_path: Path
) -> None:
    node, data = rotated_node, rotated_node.dir.path
    stop = threading.Event()

    def keep_recording() -> None:
        i = 100
        while not stop.is_set():
            node.record([parse_item(fund(i + k), node.keys) for k in range(20)])
            i += 20

    # a reader that keeps its snapshot keeps the WAL from being checkpointed past it: log.db's own
    # file then lacks everything recorded since, and only a copy that reads through the WAL has it
    reader = sqlite3.connect(data / "log.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM seals").fetchone()
    writer = threading.Thread(target=keep_recording)
    writer.start()
    taken = []
    try:
        with exclusive(data, "serve"):  # as `node serve` holds it while it runs: a backup needs no lock
            for n in range(3):
                before = logged(data)
                r = tongxin("node", "backup", "-d", str(data), "--out", str(tmp_path / f"backup-{n}"))
                taken.append((before, logged(data), r))
    finally:
        stop.set()
        writer.join()
        reader.close()
    final = logged(data)
    assert any(after > before for before, after, _ in taken), "the node kept recording during the backups"
    for n, (before, after, r) in enumerate(taken):
        backup = tmp_path / f"backup-{n}"
        assert r.returncode == 0, r.stderr
        assert "backed up node dongguan" in r.stdout and "log.db" in r.stdout
        m = manifest_of(backup)
        assert m["node_id"] == "dongguan" and m["county_id"] == "jx"
        assert before <= m["last_seq"] <= after <= final
        assert f"seq {m['last_seq']}" in r.stdout
        check_files(backup, files_of(m))  # the manifest's hashes are the files'
        assert mode(backup) == 0o700
        assert (
            mode(backup / "node.key") == mode(backup / "personal.db") == mode(backup / "nats.seed") == 0o600
        )
        assert (backup / "nats.seed").read_bytes() == (
            data / "nats.seed"
        ).read_bytes()  # the enrolled NATS user
        assert mode(backup / "keys") == 0o700
        [key] = (backup / "keys").iterdir()
        assert mode(key) == 0o600 and key.name == f"{node.signer.key_id}.key"
        assert {f["path"] for f in m["files"]} == {
            "log.db",
            "node.json",
            "node.key",
            "personal.db",
            "nats.seed",
            f"keys/{key.name}",
        }
        assert not list(backup.glob("log.db-*")), "the copy is one self-contained file"
        opened = tmp_path / f"opened-{n}"  # a backup is restored, not opened: open a copy of it
        shutil.copytree(backup, opened)
        copy = NodeService(opened)
        try:
            assert copy.log.last_seq() == m["last_seq"]
            assert copy.envelopes.head() == (m["signed_seq"], m["head_hash"])
            copy.sign_pending()  # an event logged but not yet signed when the copy was taken
            report = copy.verify()
            assert report.ok, report.faults
            assert report.checked == m["last_seq"]
        finally:
            copy.close()


def test_a_node_restored_beside_or_in_place_of_the_node_holds_the_backup_and_nothing_is_deleted(
    rotated_node: NodeService, tmp_path: Path
) -> None:
    node, data = rotated_node, rotated_node.dir.path
    backup = tmp_path / "backup"
    assert tongxin("node", "backup", "-d", str(data), "--out", str(backup)).returncode == 0
    node.record([parse_item(fund(i), node.keys) for i in range(10, 15)])
    node.close()
    assert logged(data) == 16  # 10 funds, the rotation, 5 more after the backup

    beside = tmp_path / "restored"
    r = tongxin("node", "restore", "--from", str(backup), "-d", str(beside))
    assert r.returncode == 0, r.stderr
    assert "restored node dongguan" in r.stdout and "tongxin node recover" in r.stdout
    assert logged(beside) == 11 and mode(beside / "node.key") == 0o600 and mode(beside / "keys") == 0o700
    assert tongxin("node", "verify", "-d", str(beside)).stdout.startswith("ok: 11 envelope(s)")

    r = tongxin("node", "restore", "--from", str(backup), "-d", str(data))
    assert r.returncode == 2 and "holds a node" in r.stderr and "--force" in r.stderr
    assert "Traceback" not in r.stderr
    assert logged(data) == 16, "refused: the node is untouched"

    with exclusive(data, "serve"):  # a node serving from the data dir
        r = tongxin("node", "restore", "--from", str(backup), "-d", str(data), "--force")
    assert r.returncode == 2 and "is `tongxin node serve` running" in r.stderr
    assert logged(data) == 16 and not list(tmp_path.glob("node.replaced-*"))

    r = tongxin("node", "restore", "--from", str(backup), "-d", str(data), "--force")
    assert r.returncode == 0, r.stderr
    [aside] = tmp_path.glob("node.replaced-*")
    assert str(aside) in r.stdout and logged(aside) == 16, "the replaced node is kept, whole"
    assert logged(data) == 11 and (data / "personal.db").read_bytes()[:16] == b"SQLite format 3\x00"
    for name in ("node.key", "personal.db", "node.json", "log.db"):
        assert mode(data / name) == mode(aside / name)
    assert mode(data / "keys") == 0o700 and mode(next((data / "keys").iterdir())) == 0o600
    status = json.loads(tongxin("node", "status", "--json", "-d", str(data)).stdout)
    assert status["last_seq"] == 11


def test_a_node_backup_refuses_an_existing_out_dir_and_a_dir_without_a_node(
    rotated_node: NodeService, tmp_path: Path
) -> None:
    (tmp_path / "taken").mkdir()
    r = tongxin("node", "backup", "-d", str(rotated_node.dir.path), "--out", str(tmp_path / "taken"))
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = tongxin("node", "backup", "-d", str(tmp_path / "nothing"), "--out", str(tmp_path / "b"))
    assert r.returncode == 2 and "no node in" in r.stderr and not (tmp_path / "b").exists()
    r = tongxin("node", "restore", "--from", str(tmp_path / "taken"), "-d", str(tmp_path / "n"))
    assert r.returncode == 2 and "no backup.json" in r.stderr and not (tmp_path / "n").exists()


def _heads(engine: Engine) -> list[dict[str, Any]]:
    h = t.node_heads.c
    with engine.connect() as conn:
        rows = conn.execute(select(h.node_id, h.last_seq, h.last_hash).order_by(h.node_id)).all()
    return [{"node_id": r[0], "last_seq": r[1], "last_hash": r[2]} for r in rows]


def _digest(db: str) -> str:
    r = tongxin("audit", "digest", "--db", db)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_county_restored_from_its_backup_holds_exactly_the_backed_up_heads_and_digest(
    county_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(county_db_url)
    migrate(engine)
    key = tmp_path / "county.key"
    signer = load_or_create(key)
    dongguan, huadu = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    d_envs, h_envs = record(dongguan, mixed(30)), record(huadu, [fund(i, "huadu") for i in range(10)])
    enrol_nodes(engine, dongguan, huadu)
    feed(Ingestor(engine, "jx", signer), d_envs[:20] + h_envs[:6])
    at_backup = _digest(county_db_url)
    backed_up = _heads(engine)
    assert [(h["node_id"], h["last_seq"]) for h in backed_up] == [("dongguan", 20), ("huadu", 6)]

    out = tmp_path / "county-backup"
    r = tongxin(
        "county",
        "backup",
        "--db",
        county_db_url,
        "--out",
        str(out),
        "--county-key",
        str(key),
        "--county-id",
        "jx",
    )
    assert r.returncode == 0, r.stderr
    m = manifest_of(out)
    assert m["heads"] == backed_up and m["archive_rows"] == 26 and m["alembic_revision"]
    assert isinstance(m["stream_position"], int)
    assert m["heads"][0]["last_hash"] == envelope.decode(d_envs[19]).hash
    assert m["nats"]["events_stream"] == "TONGXIN" and m["nats"]["consumer"] == "county-jx"
    assert m["db_kind"] == ("sqlite" if county_db_url.startswith("sqlite") else "postgresql")
    check_files(out, files_of(m))
    assert mode(out) == 0o700 and mode(out / "county.key") == 0o600
    assert all(mode(out / f.path) == 0o600 for f in files_of(m))  # the database's copy or dump too
    assert "dongguan" in r.stdout and "26 envelope(s)" in r.stdout

    feed(Ingestor(engine, "jx", signer), d_envs[20:] + h_envs[6:])  # the county moved on
    assert _digest(county_db_url) != at_backup
    engine.dispose()

    r = tongxin("county", "restore", "--from", str(out), "--db", county_db_url, "--county-key", str(key))
    assert r.returncode == 2 and "--force" in r.stderr and "Traceback" not in r.stderr
    restored_key = tmp_path / "restored" / "county.key"
    r = tongxin(
        "county",
        "restore",
        "--from",
        str(out),
        "--db",
        county_db_url,
        "--county-key",
        str(restored_key),
        "--force",
    )
    assert r.returncode == 0, r.stderr
    assert "re-sends what the restored database lacks" in r.stdout
    assert restored_key.read_bytes() == key.read_bytes() and mode(restored_key) == 0o600
    assert mode(restored_key.parent) == 0o700  # made by the restore
    if county_db_url.startswith("sqlite"):
        assert mode(Path(county_db_url.removeprefix("sqlite:///"))) == 0o600
    engine = make_engine(county_db_url)
    try:
        assert _heads(engine) == backed_up and count(engine, t.archive) == 26
        assert _digest(county_db_url) == at_backup
        if county_db_url.startswith("sqlite"):
            [aside] = tmp_path.glob("county.db.replaced-*")
            kept = make_engine(f"sqlite:///{aside}")
            assert count(kept, t.archive) == 40, "the replaced database is kept, whole"
            kept.dispose()
        # what the restored database lacks, sent again, is archived again
        assert set(feed(Ingestor(engine, "jx", signer), d_envs[20:] + h_envs[6:])) == {"archived"}
        assert count(engine, t.archive) == 40
    finally:
        engine.dispose()
    if county_db_url.startswith("postgresql"):
        with postgres_database() as empty:  # into an empty database, no --force needed
            r = tongxin("county", "restore", "--from", str(out), "--db", empty, "--county-key", str(key))
            assert r.returncode == 0, r.stderr
            assert _digest(empty) == at_backup


def test_a_county_backed_up_while_it_ingests_is_one_consistent_moment(
    county_db_url: str, tmp_path: Path
) -> None:
    """The archive, the heads and the projections of the copy are of one moment: every archived
    envelope under its node's head, and the projections those of the archive (a rebuild of the
    restored copy gives the digest it came with)."""
    engine = make_engine(county_db_url)
    migrate(engine)
    key = tmp_path / "county.key"
    signer = load_or_create(key)
    node = open_node(tmp_path, "dongguan")
    envs = record(node, mixed(4000))
    enrol_nodes(engine, node)
    ingestor, fed, stop = Ingestor(engine, "jx", signer), [0], threading.Event()

    def keep_ingesting() -> None:
        while not stop.is_set() and fed[0] < len(envs):
            feed(ingestor, envs[fed[0] : fed[0] + 10])
            fed[0] += 10
            time.sleep(0.005)

    ingesting = threading.Thread(target=keep_ingesting)
    ingesting.start()
    try:
        while fed[0] == 0:
            time.sleep(0.01)
        before = fed[0]
        out = tmp_path / "backup"
        r = tongxin("county", "backup", "--db", county_db_url, "--out", str(out), "--county-key", str(key))
        after = fed[0]
    finally:
        stop.set()
        ingesting.join()
        engine.dispose()
    assert r.returncode == 0, r.stderr
    assert after > before, "the county kept ingesting during the backup"
    m = manifest_of(out)
    assert before <= m["archive_rows"] <= after
    assert [h["last_seq"] for h in m["heads"]] == [m["archive_rows"]]
    with contextlib.ExitStack() as stack:
        if county_db_url.startswith("sqlite"):
            target = f"sqlite:///{tmp_path / 'restored.db'}"
        else:
            target = stack.enter_context(postgres_database())
        restored_key = str(tmp_path / "restored.key")
        r = tongxin("county", "restore", "--from", str(out), "--db", target, "--county-key", restored_key)
        assert r.returncode == 0, r.stderr
        live = _digest(target).split()[1]
        r = tongxin("county", "rebuild", "--db", target)
        assert r.returncode == 0, r.stderr
        assert f"rebuilt from {m['archive_rows']} archived event(s); digest {live}" in r.stdout


@pytest.mark.parametrize("side", ["node", "county"])
def test_a_changed_byte_in_a_backup_is_found_and_nothing_is_restored(
    side: str, rotated_node: NodeService, tmp_path: Path
) -> None:
    out = tmp_path / "backup"
    if side == "node":
        r = tongxin("node", "backup", "-d", str(rotated_node.dir.path), "--out", str(out))
        damaged, target = "log.db", tmp_path / "restored"
        restore = ["node", "restore", "--from", str(out), "-d", str(target)]
    else:
        db = f"sqlite:///{tmp_path / 'county.db'}"
        migrate(make_engine(db))
        load_or_create(tmp_path / "county.key")
        r = tongxin(
            "county", "backup", "--db", db, "--out", str(out), "--county-key", str(tmp_path / "county.key")
        )
        damaged, target = "county.db", tmp_path / "restored.db"
        restore = ["county", "restore", "--from", str(out), "--db", f"sqlite:///{target}"]
        restore += ["--county-key", str(tmp_path / "restored.key")]
    assert r.returncode == 0, r.stderr
    flip_a_byte(out / damaged)
    r = tongxin(*restore)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{damaged}: its SHA-256 is not the one in backup.json" in r.stderr
    assert not target.exists() and not (tmp_path / "restored.key").exists()


def test_county_backup_and_restore_refuse_clearly(rotated_node: NodeService, tmp_path: Path) -> None:
    no_tools = {**os.environ, "PATH": str(tmp_path / "empty")}
    load_or_create(tmp_path / "k")
    unreachable = "postgresql://county@127.0.0.1:1/tongxin"
    args = ["county", "backup", "--db", unreachable, "--out", str(tmp_path / "b"), "--county-key"]
    r = subprocess.run(
        [TONGXIN, *args, str(tmp_path / "k")],
        capture_output=True,
        text=True,
        env=no_tools,
        check=False,
        timeout=60,
    )
    assert r.returncode == 2 and "pg_dump not found" in r.stderr and not (tmp_path / "b").exists()
    missing_key = ["--county-key", str(tmp_path / "no.key")]  # not the session's key, which may exist by now
    r = tongxin(
        "county",
        "backup",
        "--db",
        f"sqlite:///{tmp_path / 'c.db'}",
        "--out",
        str(tmp_path / "b"),
        *missing_key,
    )
    assert r.returncode == 2 and "no county receipt key" in r.stderr
    node_backup = tmp_path / "node-backup"
    assert (
        tongxin("node", "backup", "-d", str(rotated_node.dir.path), "--out", str(node_backup)).returncode == 0
    )
    r = tongxin("county", "restore", "--from", str(node_backup), "--db", f"sqlite:///{tmp_path / 'c.db'}")
    assert r.returncode == 2 and "holds a node backup, not a county backup" in r.stderr
    assert not (tmp_path / "c.db").exists()


def test_restored_by_the_commands_a_county_and_a_node_get_back_everything(
    nats_server: EmbeddedNats, county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    """The whole drill with the commands, against a real nats-server: both sides backed up while
    they run, both restored from those older backups, and every node's archive equals its log again
    (the county re-reads and announces, the nodes re-send; the restored node forks, then recovers)."""
    key = tmp_path / "county.key"
    COUNTY_KEY.save(key)
    with site(tmp_path, nats_server.url, county_engine, ("dongguan", "huadu")) as s:
        s.start_county()
        for n in s.nodes:
            s.start_node(n)
        s.record("dongguan", [registration(i) for i in range(4)])
        s.record("huadu", [fund(i, org="huadu") for i in range(3)])
        s.wait_converged()
        node_backup, county_backup = tmp_path / "dongguan-backup", tmp_path / "county-backup"
        assert (
            tongxin("node", "backup", "-d", str(tmp_path / "dongguan"), "--out", str(node_backup)).returncode
            == 0
        )
        r = tongxin(
            "county", "backup", "--db", county_db_url, "--out", str(county_backup), "--county-key", str(key)
        )
        assert r.returncode == 0, r.stderr
        s.record("dongguan", [fund(i) for i in range(3)])  # 5–7: archived, then lost with both restores
        s.record("huadu", [fund(10 + i, org="huadu") for i in range(2)])
        s.wait_converged()

        s.stop_county()
        county_engine.dispose()
        r = tongxin("county", "restore", "--from", str(county_backup), "--db", county_db_url, "--force")
        assert r.returncode == 0, r.stderr
        assert [seq for seq, _ in s.archive_of("dongguan")] == [1, 2, 3, 4]
        s.start_county()
        s.wait_converged()  # re-read from the restored position, announced, re-sent

        s.stop_node("dongguan")
        r = tongxin(
            "node", "restore", "--from", str(node_backup), "-d", str(tmp_path / "dongguan"), "--force"
        )
        assert r.returncode == 0, r.stderr
        node = s.reopen("dongguan")
        assert node.status().last_seq == 4
        fwd = s.start_node("dongguan")
        wait_until(lambda: fwd.state.forked is not None, 30, "the fork noticed")
        s.stop_node("dongguan")
        node.close()
        r = tongxin("node", "recover", "--yes", "-d", str(tmp_path / "dongguan"))
        assert r.returncode == 0, r.stderr
        s.reopen("dongguan")
        s.start_node("dongguan")
        s.wait_converged()
        assert [seq for seq, _ in s.archive_of("dongguan")] == list(range(1, 9))  # 8: node.recovered
        [(_, _, last)] = s.nodes["dongguan"].envelopes.rows_after(7, 10)
        assert envelope.decode(last).type == "node.recovered"
        assert [seq for seq, _ in s.archive_of("huadu")] == list(range(1, 6))
