"""The soak's county databases: a SQLite file in the work dir, or a fresh PostgreSQL database on
127.0.0.1:5432 (trust auth, admin database `test`; `TONGXIN_TEST_PG_URL` overrides) created for
the run and dropped after it; and a copy of either for the rebuild check.

The archive and each node's envelopes are read here, for the end check.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.county.db import tables as t
from services.county.db.engine import make_engine

PG_ADMIN_URL = os.environ.get("TONGXIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

Row = tuple[int, str, str]
"""(seq, hash, event_id)"""


class NoPostgres(RuntimeError):
    """PostgreSQL is not reachable at PG_ADMIN_URL."""


def _admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(
            PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        raise NoPostgres(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}") from None


def postgres_up() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        _admin().close()
    except NoPostgres as exc:
        return str(exc)
    return None


@contextmanager
def _pg_database(template: str | None = None) -> Iterator[str]:
    name = f"tongxin_soak_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    try:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def database(kind: str, root: Path) -> Iterator[str]:
    """The county's database URL for one run (a PostgreSQL one is dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{root / 'county.db'}"
        return
    with _pg_database() as url:
        yield url


@contextmanager
def copy_of(url: str, root: Path) -> Iterator[str]:
    """A copy of the (idle) database at `url`: SQLite's backup API, or PostgreSQL's TEMPLATE."""
    if url.startswith("sqlite:///"):
        target = root / "rebuild-copy.db"
        source = sqlite3.connect(url.removeprefix("sqlite:///"))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        yield f"sqlite:///{target}"
        return
    with _pg_database(template=url.rsplit("/", 1)[1]) as copied:
        yield copied


def archive_rows(url: str) -> dict[str, list[Row]]:
    """Every archived envelope's (seq, hash, event_id), per node, in seq order."""
    engine = make_engine(url)
    a = t.archive.c
    out: dict[str, list[Row]] = {}
    try:
        with engine.connect() as conn:
            query = select(a.node_id, a.seq, a.hash, a.event_id).order_by(a.node_id, a.seq)
            for node, seq, hash, event_id in conn.execute(query):
                out.setdefault(str(node), []).append((int(seq), str(hash), str(event_id)))
    finally:
        engine.dispose()
    return out


def open_quarantine(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(t.quarantine.c.id).where(t.quarantine.c.resolved_at.is_(None))
            return len(conn.execute(query).all())
    finally:
        engine.dispose()


def seal_rows(log_db: Path) -> list[Row]:
    """A node's signed envelopes (its `seals` table), read-only, in seq order."""
    conn = sqlite3.connect(f"{log_db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT seq, hash, event_id FROM seals ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(int(s), str(h), str(e)) for s, h, e in rows]
