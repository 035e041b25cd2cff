"""Portable INSERT … ON CONFLICT for SQLite and PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], set_: dict[str, Any] | None = None
) -> None:
    """Insert rows; on a primary-key clash set `set_` (default: every non-key column to the new value)."""
    if not rows:
        return
    stmt = _insert(conn, table)
    keys = [c.name for c in table.primary_key.columns]
    if set_ is None:
        set_ = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=set_), list(rows))


def excluded(conn: Connection, table: Table) -> Any:
    """The `excluded` pseudo-table, for building `set_` expressions."""
    return _insert(conn, table).excluded
