"""In one process under a loose umask, with the connections open: a node's log.db and the county's
SQLite database are 0600, and so are the -wal and -shm SQLite makes beside them; a node dir left
readable by others is narrowed when NodeService opens it, in one log line."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine, migrate
from tests.conftest import make_node_dir
from tests.samples import registration


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def loose_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def test_a_nodes_log_and_its_wal_and_shm_are_private(loose_umask: int, tmp_path: Path) -> None:
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        node.record([parse_item(registration(i), node.keys) for i in range(3)])
        node.rotate_key()
        log = node.dir.log_path
        sides = [log.with_name(log.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in sides)
        assert [mode(p) for p in (log, *sides)] == [0o600] * 3
        assert mode(node.dir.path) == mode(node.dir.path / "keys") == 0o700
        assert {mode(p) for p in node.dir.path.rglob("*") if p.is_file()} == {0o600}
    finally:
        node.close()


def test_a_county_sqlite_database_and_its_wal_and_shm_are_private(loose_umask: int, tmp_path: Path) -> None:
    db = tmp_path / "county" / "county.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        migrate(engine)
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM archive"))
            sides = [db.with_name(db.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in sides)
            assert [mode(p) for p in (db, *sides)] == [0o600] * 3
        assert mode(db.parent) == 0o700
    finally:
        engine.dispose()


def test_a_node_dir_readable_by_others_is_narrowed_on_open_in_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = make_node_dir(tmp_path / "node")
    NodeService(data).close()
    for path in [data, *data.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    with caplog.at_level(logging.WARNING, logger="tongxin.node"):
        NodeService(data).close()
        told = [r for r in caplog.records if "private to their owner" in r.getMessage()]
        assert len(told) == 1 and "log.db 0644→0600" in told[0].getMessage()
        assert mode(data) == 0o700 and {mode(p) for p in data.rglob("*")} == {0o600}
        caplog.clear()
        NodeService(data).close()
        assert not caplog.records
