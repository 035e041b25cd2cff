"""The projection digest: SHA-256 over every business projection's rows, canonically sorted."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Boolean, Column, Connection, String, select

from services.county.projections.registry import BUSINESS_TABLES
from shared.envelope import canonical


def digest(conn: Connection) -> str:
    """Equal for equal projections, on SQLite and PostgreSQL alike (DESIGN §3.5)."""
    h = hashlib.sha256()
    for table in BUSINESS_TABLES:
        h.update(f"table {table.name}\n".encode())
        columns = list(table.columns)
        names = [col.name for col in columns]
        flags = [i for i, col in enumerate(columns) if isinstance(col.type, Boolean)]  # 0/1 on SQLite
        keys = [_binary(conn, k) for k in table.primary_key.columns]
        for row in conn.execute(select(*columns).order_by(*keys)):
            values = dict(zip(names, row, strict=True))
            for i in flags:
                if row[i] is not None:
                    values[names[i]] = bool(row[i])
            h.update(canonical(values) + b"\n")
    return h.hexdigest()


def _binary(conn: Connection, col: Column[Any]) -> Any:
    """Order text by code point on every database (PostgreSQL's default collation differs)."""
    if conn.dialect.name == "postgresql" and isinstance(col.type, String):
        return col.collate("C")
    return col
