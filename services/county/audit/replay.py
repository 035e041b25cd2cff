"""Replay: rebuild the projections from part of the archive into a scratch database (`known_at`).

Point in time is bitemporal (DESIGN §6), and the two axes are answered differently, on purpose:

- `as_of` (business time) reads the `member_timeline` validity ranges of the live database
  (`queries/asof.py`): one indexed query, interactive, within the roster's p95 target
  (bench/asof.py). Business history is already in the projections, so nothing is rebuilt.
- `known_at` (what the county had received by T) is an auditor's question — "reproduce
  yesterday's report" — with no performance target. Arrival is deliberately not part of the
  business projections (guarantee 4), so it is answered by replay: the archive rows the county
  had by T are fed, in (node_id, seq) order, through the very functions the live rebuild uses
  (`fact_from_archive`, `Rebuilding`, `derive_entities`) into a scratch database, and the
  query runs there. That reproduces exactly what the county knew, including conflicts and
  late arrivals, instead of approximating it with filters on every query.

Which rows the county "had" by T: a node's envelope counts from its arrival (`received_at`),
or — when it was archived by re-processing a quarantined message — from when that quarantine
row was resolved; and, as at ingest (guarantee 3), only the gap-free prefix of each node's
chain counts: an envelope that arrived by T but waited behind a missing seq until after T was
held, not projected, at T. With `as_of` as well, only events that occurred by D are replayed
(business time); the as-of digest then covers the roster rows valid at D
(`queries/digest.as_of_digest`).

Scratch databases are temporary SQLite files (or `--into URL`), created with `make_engine` and
`migrate`, kept per (T, D) in a small LRU cache (`replay_cache`), and removed on eviction, shutdown or exit.
Into a temporary scratch without `known_at`, the live `rebuild` itself runs: for a full replay
it reads the source's archive and writes only the scratch's projections (the scratch is thrown
away once its digest and counts are taken); with `as_of`, the rows that occurred by then are
copied into the scratch first (inside SQLite with the source attached, or streamed from
PostgreSQL), because the as-of digest reads them. `--into` and `known_at` replays copy each
replayed archive row, so the scratch holds a complete county database.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, tuple_

from services.county.authority import speakers as enrolled
from services.county.chain import Standing, standing
from services.county.db import tables as t
from services.county.db.bulk import insert_all
from services.county.db.engine import make_engine, migrate
from services.county.db.upsert import insert_ignore
from services.county.projections.digest import digest
from services.county.projections.fact import fact_from_archive
from services.county.projections.rebuild import Rebuilding, clear, derive_entities, rebuild
from services.county.projections.registry import BUSINESS_TABLES
from services.county.queries.digest import as_of_digest, roster_counts
from services.county.reference.tables import org_register
from shared.errors import FieldError

CHUNK = 5000

Progress = Callable[[int, int], None]
"""Called with (archive rows read, archive rows to read)."""


@dataclass(frozen=True)
class Bounds:
    """Canonical UTC times: arrival (`known_at`) and business (`as_of`); None is unbounded."""

    known_at: str | None = None
    as_of: str | None = None


@dataclass
class Replayed:
    """What a replay did: events replayed out of those archived, and the resulting digests."""

    bounds: Bounds
    archived: int
    replayed: int
    digest: str
    as_of_digest: str | None
    rows: dict[str, int]
    roster: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "known_at": self.bounds.known_at,
            "as_of": self.bounds.as_of,
            "events": {"archived": self.archived, "replayed": self.replayed},
            "digest": self.digest,
            "as_of_digest": self.as_of_digest,
            "rows": self.rows,
            "roster": self.roster,
        }


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read connection seeing one state of the source for the whole replay."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def archived_count(src: Connection, bounds: Bounds) -> int:
    query = select(func.count()).select_from(t.archive)
    if bounds.known_at is not None:
        query = query.where(t.archive.c.received_at <= bounds.known_at)
    return int(src.execute(query).scalar_one())


def _resolved(src: Connection, known_at: str | None) -> dict[tuple[str, int, str], str]:
    """(node_id, seq, received_at) → resolved_at, for quarantine rows re-processed after `known_at`."""
    if known_at is None:
        return {}
    q = t.quarantine.c
    rows = src.execute(
        select(q.node_id, q.seq, q.received_at, q.resolved_at).where(
            q.resolved_at > known_at, q.node_id.is_not(None), q.seq.is_not(None)
        )
    )
    return {(n, int(s), r): done for n, s, r, done in rows}


def replay(
    src: Connection, dst: Connection, bounds: Bounds, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild every business projection in `dst` (and its archive) from the archive rows of `src`
    that the county had by `bounds.known_at` and that occurred by `bounds.as_of`; returns their number."""
    clear(dst)
    resolved_late = _resolved(src, bounds.known_at)
    heads: dict[str, int] = {}
    cut: set[str] = set()
    folding = Rebuilding(dst, enrolled.load(src))
    a = t.archive.c
    after: tuple[str, int] = ("", 0)
    done = seen = 0
    while True:
        query = select(t.archive).where(tuple_(a.node_id, a.seq) > tuple_(*after))  # an index range
        if bounds.known_at is not None:
            query = query.where(a.received_at <= bounds.known_at)
        rows = src.execute(query.order_by(a.node_id, a.seq).limit(CHUNK)).mappings().all()
        if not rows:
            break
        kept = []
        for row in rows:
            node, seq = row["node_id"], row["seq"]
            if bounds.known_at is not None:
                late = (node, seq, row["received_at"]) in resolved_late
                if node in cut or late or standing(seq, heads.get(node, 0)) is not Standing.NEXT:
                    cut.add(node)  # the rest of this node's chain was held behind the gap at T
                    continue
                heads[node] = seq
            if bounds.as_of is None or row["occurred_at"] <= bounds.as_of:
                kept.append(dict(row))
        _project(dst, kept, folding)
        done += len(kept)
        seen += len(rows)
        after = (rows[-1]["node_id"], rows[-1]["seq"])
        if progress is not None:
            progress(seen)
    derive_entities(dst, folding)
    folding.finish()
    return done


def _copy(scratch: Engine, source: Engine, src: Connection, bounds: Bounds) -> None:
    """Into a new SQLite scratch: the archive rows within `as_of`, as they are. From a SQLite
    file, inside SQLite (the source attached: no row passes through Python); from PostgreSQL,
    streamed from the snapshot `src` in chunks of tuples. The scratch is then rebuilt from its
    own archive by the live `rebuild`, which is what `replay` does a row at a time."""
    columns = ", ".join(c.name for c in t.archive.columns)
    with scratch.connect() as conn:
        raw: Any = conn.connection.dbapi_connection  # a sqlite3 Connection
        if source.dialect.name == "sqlite" and source.url.database not in (None, "", ":memory:"):
            raw.execute("ATTACH DATABASE ? AS source", (source.url.database,))
            try:
                where = "" if bounds.as_of is None else " WHERE occurred_at <= ?"
                raw.execute(
                    f"INSERT INTO archive ({columns}) SELECT {columns} FROM source.archive{where}",
                    () if bounds.as_of is None else (bounds.as_of,),
                )
                raw.commit()
            finally:
                raw.execute("DETACH DATABASE source")
            return
        query = select(*t.archive.columns)
        if bounds.as_of is not None:
            query = query.where(t.archive.c.occurred_at <= bounds.as_of)
        insert = f"INSERT INTO archive ({columns}) VALUES ({', '.join('?' for _ in t.archive.columns)})"
        for rows in src.execute(query.execution_options(stream_results=True, yield_per=CHUNK)).partitions():
            raw.executemany(insert, rows)
        raw.commit()


def _project(dst: Connection, rows: list[dict[str, Any]], folding: Rebuilding) -> None:
    """Archive `rows` in `dst` and project them as the live rebuild does: the events about no
    entity now, the entities' (from `dst`'s archive) at the end."""
    if not rows:
        return
    insert_all(dst, t.archive, rows)
    facts = [
        fact_from_archive(r["node_id"], r["seq"], r["type"], r["occurred_at"], r["envelope"])
        for r in rows
        if r["subject"] is None
    ]
    folding.add(facts)


def summarize(conn: Connection, bounds: Bounds, archived: int, replayed: int) -> Replayed:
    rows = {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in BUSINESS_TABLES
    }
    return Replayed(
        bounds,
        archived,
        replayed,
        digest(conn),
        as_of_digest(conn, bounds.as_of) if bounds.as_of is not None else None,
        rows,
        roster_counts(conn, bounds.as_of),
    )


@dataclass
class Scratch:
    """A database holding a replay; `close()` (or exit) disposes it and removes a temporary file."""

    engine: Engine
    result: Replayed
    directory: Path | None = None
    users: int = 0
    evicted: bool = False
    _finalizer: weakref.finalize[Any, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._finalizer = weakref.finalize(self, _remove, self.engine, self.directory)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


def _remove(engine: Engine, directory: Path | None) -> None:
    engine.dispose()
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def build(
    source: Engine, bounds: Bounds, into: str | None = None, progress: Progress | None = None
) -> Scratch:
    """Replay `source` within `bounds` into `into` (an empty county database) or a temporary SQLite file."""
    directory = None
    if into is None:
        directory = Path(tempfile.mkdtemp(prefix="tongxin-replay-"))
        into = f"sqlite:///{directory / 'replay.db'}"
    engine = make_engine(into, durable=directory is None)  # a temporary file need not survive a crash
    try:
        if engine.url == source.url:
            raise FieldError("into", "must name another database than the one replayed")
        migrate(engine)
        # a temporary scratch (a failure removes it all) and no `known_at`, whose gap rules need
        # each row in turn: the live rebuild — reading the source's archive for a full replay
        # (the scratch is thrown away once its digest is taken), a copy of the rows within `as_of`
        # otherwise (the as-of digest reads them)
        rebuilt = directory is not None and bounds.known_at is None
        copied = rebuilt and bounds.as_of is not None
        with snapshot(source) as src, engine.begin() as dst:
            if copied:
                _copy(engine, source, src, bounds)
            if not rebuilt and dst.execute(select(func.count()).select_from(t.archive)).scalar_one():
                raise FieldError("into", "already holds an archive: give an empty database")
            # who each node is: the screen reads it from `src`, queries over the scratch from it
            insert_ignore(dst, t.nodes, [dict(r) for r in src.execute(select(t.nodes)).mappings()])
            # the names the county loaded (`reference`): the queries over the scratch name by them too
            insert_ignore(dst, org_register, [dict(r) for r in src.execute(select(org_register)).mappings()])
            archived = archived_count(src, bounds)
            step = (lambda n: progress(n, archived)) if progress is not None else None
            if rebuilt:
                replayed = rebuild(dst, step, source=None if copied else src)
            else:
                replayed = replay(src, dst, bounds, step)
            result = summarize(dst, bounds, archived, replayed)
    except BaseException:
        _remove(engine, directory)
        raise
    return Scratch(engine, result, directory)
