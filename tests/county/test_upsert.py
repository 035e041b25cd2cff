"""The portable upserts, on SQLite and PostgreSQL (where they are one statement over arrays)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.db.upsert import insert_ignore, upsert
from services.county.projections import attendance


def head(node_id: str, seq: int, **kw: object) -> dict[str, object]:
    row = {"node_id": node_id, "last_seq": seq, "last_hash": f"{seq:064x}", "last_seen": "s"}
    return row | {"last_recorded_at": "r"} | kw


def test_upsert_inserts_new_keys_and_updates_existing_ones(county_engine: Engine) -> None:
    with county_engine.begin() as conn:
        upsert(conn, t.node_heads, [head("a", 1)])
        upsert(conn, t.node_heads, [head("a", 5, max_skew_s=7), head("b", 2, max_skew_s=3)])
        upsert(conn, t.node_heads, [])
    with county_engine.connect() as conn:
        c = t.node_heads.c
        rows = conn.execute(select(c.node_id, c.last_seq, c.max_skew_s))
        assert sorted(tuple(r) for r in rows) == [("a", 5, 7), ("b", 2, 3)]


def test_a_row_with_no_value_for_a_column_with_a_default_gets_the_default(county_engine: Engine) -> None:
    with county_engine.begin() as conn:
        upsert(conn, t.node_heads, [head("a", 1)])  # max_skew_s has a scalar default of 0
    with county_engine.connect() as conn:
        assert conn.execute(select(t.node_heads.c.max_skew_s)).scalar_one() == 0


def test_insert_ignore_keeps_the_first_row_of_a_key(county_engine: Engine) -> None:
    with county_engine.begin() as conn:
        insert_ignore(
            conn, attendance.trained, [{"member_id": "m1", "year": 2026}, {"member_id": "m2", "year": 2025}]
        )
        insert_ignore(
            conn, attendance.trained, [{"member_id": "m1", "year": 2026}, {"member_id": "m1", "year": 2024}]
        )
    with county_engine.connect() as conn:
        rows = conn.execute(select(attendance.trained.c.member_id, attendance.trained.c.year))
        assert sorted(tuple(r) for r in rows) == [("m1", 2024), ("m1", 2026), ("m2", 2025)]
