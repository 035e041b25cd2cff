"""Rotating the personal-data master key (`tongxin county personal-key rotate`): every member key
wrapped again under the new key, names still open, the identity index made again (the conflict
still found), the old key kept aside; a rotation interrupted after its commit is finished by
running it again, one interrupted before is undone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from services.county.ingest.processor import Ingestor
from services.county.personal.index import conflicts, index_members
from services.county.personal.master import MasterKey
from services.county.personal.store import KeyStore
from services.county.personal.tables import member_keys
from tests.county.helpers import enrol_nodes, feed, open_node
from tests.county.personal_scenario import ID_A, register_sealed, setup_orgs
from tests.e2e.conftest import tongxin


def _county(engine: Engine, tmp_path: Path) -> tuple[Path, list[tuple[str, str, bytes]]]:
    path = tmp_path / "tongxin-county-personal.key"
    store = KeyStore(MasterKey.load_or_create(path))
    node, other = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    try:
        enrol_nodes(engine, node, other, office="dongguan")
        datas = setup_orgs(node)
        a = register_sealed(node, "张三", ID_A, home_branch="v1")
        b = register_sealed(other, "张三", ID_A, home_branch="v1")  # the same person twice
        assert set(feed(Ingestor(engine, "jx"), datas + a.envelopes + b.envelopes)) == {"archived"}
        with engine.begin() as conn:
            for s, n in ((a, "dongguan"), (b, "huadu")):
                store.put(conn, n, s.member_id, s.key.key_id, s.key.key)
            assert index_members(conn, store) == 2
            assert len(conflicts(conn)) == 1
    finally:
        node.close()
        other.close()
    return path, [(s.member_id, s.key.key_id, s.key.key) for s in (a, b)]


def _opened(engine: Engine, master: MasterKey, keys: list[tuple[str, str, bytes]]) -> bool:
    store = KeyStore(master)
    with engine.connect() as conn:
        return all(store.get(conn, m, k) == key for m, k, key in keys)


def test_a_rotation_wraps_every_key_again_and_keeps_the_index(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    path, keys = _county(county_engine, tmp_path)
    before = path.read_text()
    with county_engine.connect() as conn:
        wrapped_before = set(conn.execute(select(member_keys.c.wrapped)).scalars())
    r = tongxin("county", "personal-key", "rotate", "--db", county_db_url, "--personal-key", str(path))
    assert r.returncode == 0, r.stderr
    assert "2 member key(s) wrapped again, 2 indexed" in r.stdout
    old = path.with_name(path.name + ".old")
    assert old.read_text() == before and path.read_text() != before
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert _opened(county_engine, MasterKey.load_or_create(path), keys)
    assert not _opened(county_engine, MasterKey.load_or_create(old), keys), "the old key opens nothing now"
    with county_engine.connect() as conn:
        assert not wrapped_before & set(conn.execute(select(member_keys.c.wrapped)).scalars())
        assert len(conflicts(conn)) == 1, "the index, made again under the new key, still finds the double"


def test_an_interrupted_rotation_is_finished_or_undone_by_running_it_again(
    county_engine: Engine, county_db_url: str, tmp_path: Path
) -> None:
    path, keys = _county(county_engine, tmp_path)
    original = MasterKey.load_or_create(path)
    pending = path.with_name(path.name + ".new")
    # stopped before its transaction committed: the .new key opens nothing, so it is dropped
    pending.write_text("ab" * 32 + "\n")
    r = tongxin("county", "personal-key", "rotate", "--db", county_db_url, "--personal-key", str(path))
    assert r.returncode == 0, r.stderr
    assert "had not committed" in r.stdout and not pending.exists()
    assert _opened(county_engine, MasterKey.load_or_create(path), keys)
    # stopped after its commit, before the rename: the store opens under .new, which is moved in
    current = MasterKey.load_or_create(path)
    assert current != original
    newer = MasterKey(bytes(range(32)))
    with county_engine.begin() as conn:
        for m, k, key in keys:
            conn.execute(
                member_keys.update().where(member_keys.c.member_id == m).values(wrapped=newer.wrap(m, k, key))
            )
    pending.write_text(newer.key.hex() + "\n")
    r = tongxin("county", "personal-key", "rotate", "--db", county_db_url, "--personal-key", str(path))
    assert r.returncode == 0, r.stderr
    assert "was finished" in r.stdout
    assert _opened(county_engine, MasterKey.load_or_create(path), keys)
