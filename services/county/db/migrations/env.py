"""Alembic environment: migrates the connection handed over by services.county.db.engine.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from services.county.projections.registry import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///county.db")
    connection = engine.connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
