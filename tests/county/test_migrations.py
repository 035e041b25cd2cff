"""The schema comes from Alembic migrations, and they match the tables the code uses."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from services.county.cli import app as county_cli
from services.county.db import tables as t
from services.county.db.engine import alembic_config, migrate
from services.county.projections.registry import metadata
from services.county.registry import enrol
from shared.signing import Signer


def test_migrations_build_exactly_the_tables_in_code(county_engine: Engine) -> None:
    migrate(county_engine)  # a second run changes nothing
    with county_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(county_engine: Engine) -> None:
    cfg = alembic_config(county_engine.url.render_as_string(hide_password=False))
    with county_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(county_engine).get_table_names()) <= {"alembic_version"}
    migrate(county_engine)
    assert {t.name for t in metadata.sorted_tables} <= set(inspect(county_engine).get_table_names())


def test_county_migrate_says_which_revisions_it_applied(county_engine: Engine, county_db_url: str) -> None:
    cfg = alembic_config(county_engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with county_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    upgraded = CliRunner().invoke(county_cli, ["migrate", "--db", county_db_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"schema upgraded 0002 → {head}" in upgraded.output
    again = CliRunner().invoke(county_cli, ["migrate", "--db", county_db_url])
    assert again.exit_code == 0, again.output
    assert f"schema already at {head}" in again.output and "nothing applied" in again.output
    assert "upgraded" not in again.output


def test_0012_gives_the_enrolled_nodes_slots_in_enrolment_order_and_forgets_partition_positions(
    county_engine: Engine,
) -> None:
    cfg = alembic_config(county_engine.url.render_as_string(hide_password=False))
    with county_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    enrolled = [("zz", "2026-01-01T00:00:00.000000Z"), ("aa", "2026-03-01T00:00:00.000000Z")]
    enrolled += [("mm", "2026-02-01T00:00:00.000000Z"), ("bb", "2026-02-01T00:00:00.000000Z")]
    positions = {"TONGXIN": 40, "TONGXIN.p0": 90, "TONGXIN.p13": 70}
    with county_engine.begin() as conn:
        for node_id, at in enrolled:
            conn.execute(
                text("INSERT INTO nodes (node_id, enrolled_at, note) VALUES (:n, :a, '')"),
                {"n": node_id, "a": at},
            )
        for key, seq in positions.items():
            conn.execute(
                text("INSERT INTO ingest_position (stream, stream_seq, updated_at) VALUES (:k, :s, :a)"),
                {"k": key, "s": seq, "a": enrolled[0][1]},
            )
    migrate(county_engine)
    with county_engine.connect() as conn:
        slots = {n: s for n, s in conn.execute(select(t.nodes.c.node_id, t.nodes.c.slot))}
        kept = {
            k: s for k, s in conn.execute(select(t.ingest_position.c.stream, t.ingest_position.c.stream_seq))
        }
    assert slots == {"zz": 0, "bb": 1, "mm": 2, "aa": 3}, "by enrolled_at, then node_id"
    assert kept == {"TONGXIN": 40}, "the workers resume from the one ingest's position"
    with county_engine.begin() as conn:
        enrol(conn, "new", Signer.generate().public_key_hex)
        assert conn.execute(select(t.nodes.c.slot).where(t.nodes.c.node_id == "new")).scalar_one() == 4
