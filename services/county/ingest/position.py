"""Where ingest stands in the events stream: the highest stream seq a committed batch handled.

Written in each batch's own transaction, so it never claims more than the archive holds. The
consumer is created to resume after it (a deleted consumer does not re-read the whole stream),
and a consumer whose ack floor is past it — the database was restored from a backup, or someone
else acknowledged on the county's durable — is recreated to re-read from it: what the stream
still holds comes back from there, idempotently, and what it no longer holds the nodes re-send.

Keyed by a name: the stream's (`TONGXIN`) for the one ingest, or one per partition
(`TONGXIN.p<n>`) for W ingest workers, each batch advancing its worker's partitions
(`partitions.Share`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from services.county.db import tables as t
from services.county.db.upsert import upsert
from shared import envelope


def advance(conn: Connection, stream: str, stream_seq: int) -> None:
    """Move the position of `stream` to `stream_seq` if that is further (never back)."""
    if stream_seq <= 0:
        return
    row = {"stream": stream, "stream_seq": stream_seq, "updated_at": envelope.format_time(datetime.now(UTC))}
    upsert(conn, t.ingest_position, [row], where=lambda new: new.stream_seq > t.ingest_position.c.stream_seq)


def read(conn: Connection, stream: str) -> int:
    """The position of `stream`: 0 when nothing was ingested from it yet."""
    found = conn.execute(
        select(t.ingest_position.c.stream_seq).where(t.ingest_position.c.stream == stream)
    ).scalar_one_or_none()
    return int(found or 0)


def read_from(engine: Engine, stream: str) -> int:
    with engine.connect() as conn:
        return read(conn, stream)


def reset(engine: Engine, stream: str) -> None:
    """Forget the position of `stream` (it was lost and made again: its seqs started over)."""
    with engine.begin() as conn:
        conn.execute(t.ingest_position.delete().where(t.ingest_position.c.stream == stream))
