"""Plain multi-row INSERTs without SQLAlchemy's per-row parameter processing.

SQLAlchemy's executemany builds a parameter dict per row, and on PostgreSQL psycopg then
sends one pipelined statement per row: at rebuild rates that is most of the time. Here SQLite
gets one DBAPI `executemany` with tuples, PostgreSQL one `COPY … FROM STDIN` through psycopg
(half the time of the `INSERT … SELECT * FROM unnest(…)` used before: 62,928 member rows 1.78 →
0.86 s). Values go in as they are (the county's tables hold text, integers, booleans and bytes,
which psycopg writes in COPY's text form); a column missing from the rows gets its scalar
default, as SQLAlchemy would give it.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Table


def insert_all(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT every row (no conflict handling: the keys must be new)."""
    if not rows:
        return
    columns, values = columns_of(table, rows)
    quote = conn.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)})"
    if conn.dialect.name == "postgresql":
        names = ", ".join(quote(c.name) for c in columns)
        driver: Any = conn.connection.dbapi_connection  # a psycopg Connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"{head} VALUES ({marks})", values)


Values = list[tuple[Any, ...]]


def columns_of(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[Column[Any]], Values]:
    """The columns the rows give (by the first row's keys) or that have a scalar default, and each
    row's values in their order (the default where the row has none)."""
    columns = [c for c in table.columns if c.name in rows[0] or _default(c) is not None]
    defaults = {c.name: _default(c) for c in columns if c.name not in rows[0]}
    names = [c.name for c in columns]
    get = itemgetter(*names) if len(names) > 1 else lambda r: (r[names[0]],)
    return columns, [get({**defaults, **r} if defaults else r) for r in rows]


def _default(column: Column[Any]) -> Any:
    default = column.default
    return default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]
