"""eventsourcing's SQLite persistence with `synchronous=FULL` on every connection it opens.

The node's events are written by these connections. In WAL mode SQLite's compiled default
may be NORMAL (a commit can then be lost to a power cut, though never half-applied); a node
that answered "recorded" must still have the event after one, so FULL is set explicitly
rather than left to how SQLite was built. The envelope store's own connection sets it too
(`envelopes.connect`).
"""

from __future__ import annotations

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory
from eventsourcing.utils import Environment, EnvType


class FullSyncPool(SQLiteConnectionPool):
    """eventsourcing's pool of SQLite connections, each committing with synchronous=FULL."""

    def _create_connection(self) -> SQLiteConnection:
        conn = super()._create_connection()
        conn.cursor().execute("PRAGMA synchronous=FULL")
        return conn


class DurableSQLiteFactory(SQLiteFactory):
    """`eventsourcing.sqlite` as configured by the same settings, its connections from a
    `FullSyncPool`. Name it in `PERSISTENCE_MODULE` as `TOPIC`."""

    TOPIC = f"{__name__}:DurableSQLiteFactory"

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        given = self.datastore.pool  # built by SQLiteDatastore; it has opened no connection yet
        self.datastore.pool = FullSyncPool(
            db_name=given.db_name,
            lock_timeout=given.lock_timeout,
            pool_size=given.pool_size,
            max_overflow=given.max_overflow,
            pool_timeout=given.pool_timeout,
            max_age=given.max_age,
            pre_ping=given.pre_ping,
        )
        given.close()
