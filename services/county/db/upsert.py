"""Portable INSERT … ON CONFLICT for SQLite and PostgreSQL (SQLAlchemy Core).

On PostgreSQL the rows go in as one statement over arrays (`INSERT … SELECT unnest(…), … ON
CONFLICT …`, the rows' keys distinct): an executemany there is one pipelined statement per
row, which the server runs one by one (`Ingestor.process` over 105,000 events in batches of
2,000: the attendance upserts 0.74 → 0.28 s, the years trained 0.35 → 0.12 s). SQLite, in
process, takes the executemany as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite

from services.county.db.bulk import columns_of


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _run(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Any) -> None:
    """`conflict(stmt)` adds the ON CONFLICT clause to the INSERT of `rows`."""
    if conn.dialect.name != "postgresql":
        conn.execute(conflict(_insert(conn, table)), list(rows))
        return
    columns, values = columns_of(table, rows)
    arrays = [
        func.unnest(cast(bindparam(f"_{c.name}"), postgresql.ARRAY(c.type))).label(c.name) for c in columns
    ]
    stmt = _insert(conn, table).from_select([c.name for c in columns], select(*arrays))
    params = {f"_{c.name}": [row[i] for row in values] for i, c in enumerate(columns)}
    conn.execute(conflict(stmt), params)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        _run(conn, table, rows, lambda stmt: stmt.on_conflict_do_nothing())


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    set_: dict[str, Any] | None = None,
    where: Callable[[Any], Any] | None = None,
) -> None:
    """Insert rows; on a primary-key clash set `set_` (default: every non-key column to the new
    value), and only where `where(excluded)` holds, if given."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]

    def conflict(stmt: Any) -> Any:
        update = set_
        if update is None:
            update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        condition = None if where is None else where(stmt.excluded)
        return stmt.on_conflict_do_update(index_elements=keys, set_=update, where=condition)

    _run(conn, table, rows, conflict)


def excluded(conn: Connection, table: Table) -> Any:
    """The `excluded` pseudo-table, for building `set_` expressions."""
    return _insert(conn, table).excluded
