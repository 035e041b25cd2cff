"""The schema comes from Alembic migrations, and they match the tables the code uses."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

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
