"""What the archive holds, as the CLI asks it: whether a database holds one, and how many events."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, inspect, select

from services.county.db import tables as t


def holds_archive(engine: Engine) -> bool:
    """Whether `engine`'s database has the county's archive table (it may raise OperationalError
    when the database cannot be opened)."""
    return inspect(engine).has_table("archive")


def archived_events(conn: Connection) -> int:
    """How many envelopes the archive holds (the total a rebuild's progress counts up to)."""
    return int(conn.execute(select(func.count()).select_from(t.archive)).scalar_one())
