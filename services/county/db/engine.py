"""Engines for the county database (SQLite by default, PostgreSQL in production) and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from shared.private_files import private_file

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_DB_URL = "sqlite:///tongxin-county.db"
CACHE_KIB = 64 * 1024
WAL_CHECKPOINT_PAGES = 10_000


def make_engine(url: str, *, durable: bool = True, cache_kib: int = CACHE_KIB) -> Engine:
    """An engine; a SQLite file it makes is created 0600 (so are the -wal, -shm and -journal
    SQLite makes beside it), in a directory made 0700 if missing. SQLite files run in WAL mode
    with synchronous=FULL (no journal and no syncs when not `durable`: a scratch file thrown
    away after a replay, or on any failure), a busy timeout, a 64 MiB page cache (the archive's
    subject index and the projections keyed by member are written all over; SQLite's 2 MiB
    default thrashes once the archive has a few hundred thousand rows) and a checkpoint every
    WAL_CHECKPOINT_PAGES pages: with SQLite's 1,000 an ingest batch of 1,000 events, which
    dirties more pages than that, copied the WAL into the database (and synced it) at nearly
    every commit."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        journal, synchronous = ("WAL", "FULL") if durable else ("OFF", "OFF")
        path = sqlite_file(url)

        @event.listens_for(engine, "do_connect")
        def _private(*_args):  # type: ignore[no-untyped-def]
            if path is not None:
                private_file(path)  # a database the county makes is 0600, as are its -wal and -shm

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA journal_mode={journal}")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cur.execute("PRAGMA secure_delete=FAST")  # a destroyed member key is zeroed in its page
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None in memory, or for a `file:` URI left to SQLite)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision (idempotent); the revisions before and after
    (None before: an empty database)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # ingest workers starting together migrate one at a time
            conn.execute(text("SELECT pg_advisory_xact_lock(7263111001)"))
        before = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after
