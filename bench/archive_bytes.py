"""Bytes per event where the county keeps them: the events stream (JetStream's own count) and the
county's database (archive, projections and indexes together), for operations §17.4's sizing.

    python -m bench.archive_bytes --events 20000 --db both

One node records `--events` of bench.county's mix (the organisation tree, then cycles of 20: 6
registrations, sealed, 1 move, 13 others); they are published once to an embedded nats-server with
the events stream (Msg-Id headers as a node sends them) and ingested into a fresh migrated database.
Printed: envelope bytes, stream bytes, and database bytes after the ingest minus before, each per
event. SQLite: the file after a WAL checkpoint and VACUUM; PostgreSQL: `pg_database_size`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy import Engine, text

from bench.asof import database
from bench.county_mix import e2e_items
from bench.county_steps import fresh_engine
from bench.node import new_node
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from shared.streams import ensure_streams_on
from shared.transport import connect
from shared.wire import STREAM, events_subject, msg_id
from tongxin.natsd import EmbeddedNats


def recorded(root: Path, events: int) -> tuple[NodeService, list[tuple[int, str, bytes]]]:
    node = new_node(root / "os-01", "os-01")
    items = e2e_items(0, events, 1, 20)
    for s in range(0, len(items), 1000):
        node.record([parse_item(i, node.keys) for i in items[s : s + 1000]])
    node.sign_pending()
    return node, node.envelopes.rows_after(0, events + 1)


async def stream_bytes(url: str, subject: str, rows: list[tuple[int, str, bytes]]) -> int:
    nc = await connect(url)
    try:
        js = nc.jetstream()
        await ensure_streams_on(js)
        futs = [
            await js.publish_async(subject, data, headers={"Nats-Msg-Id": msg_id("os-01", seq, h)})
            for seq, h, data in rows
        ]
        await asyncio.gather(*futs)
        return int((await js.stream_info(STREAM)).state.bytes)
    finally:
        await nc.close()


def db_bytes(engine: Engine, url: str) -> int:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        engine.dispose()
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn = sqlite3.connect(path)
        conn.execute("VACUUM")
        conn.close()
        return Path(path).stat().st_size
    with engine.connect() as c:
        return int(c.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def measure(kind: str, root: Path, node: NodeService, rows: list[tuple[int, str, bytes]]) -> dict[str, float]:
    root.mkdir(parents=True, exist_ok=True)
    with database(kind, root) as url:
        engine = fresh_engine(url, [node.dir.path])
        empty = db_bytes(engine, url)
        engine = make_engine(url) if url.startswith("sqlite") else engine  # the SQLite one was closed
        ingestor = Ingestor(engine, "jx")
        subject = events_subject("jx", "os-01")
        for s in range(0, len(rows), 500):
            outcomes = ingestor.process([Incoming(data, subject) for _, _, data in rows[s : s + 500]])
            assert set(outcomes) == {"archived"}, set(outcomes)
        full = db_bytes(engine, url)
        engine.dispose()
    return {"db_bytes_per_event": (full - empty) / len(rows), "db_bytes_empty": empty}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        node, rows = recorded(root, args.events)
        with EmbeddedNats(root / "nats", open_access=True) as server:
            stream = asyncio.run(stream_bytes(server.url, events_subject("jx", "os-01"), rows))
        result: dict[str, object] = {
            "events": len(rows),
            "envelope_bytes_per_event": sum(len(d) for _, _, d in rows) / len(rows),
            "stream_bytes_per_event": stream / len(rows),
        }
        for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            result[kind] = measure(kind, root / kind, node, rows)
        node.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
