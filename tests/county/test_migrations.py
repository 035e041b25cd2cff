"""The schema comes from Alembic migrations, and they match the tables the code uses."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from typer.testing import CliRunner

from services.county.cli import app as county_cli
from services.county.db.engine import alembic_config, migrate
from services.county.projections.registry import metadata


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
