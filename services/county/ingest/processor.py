"""One ingest batch, one transaction: check → place in the node's chain → archive → project.

Placement per node (DESIGN §3.2–3.3): a seq already archived is a no-op (or, with another
hash, quarantined as conflicting); the next seq must link to the archived head; a seq beyond
it is held until the gap fills. The caller acknowledges the messages only after `process`
has returned, i.e. after the commit.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, delete, func, select

from services.county.db import tables as t
from services.county.db.upsert import insert_ignore, upsert
from services.county.ingest.checks import Checked, Pre, RefusedError, check, precheck
from services.county.ingest.node_keys import KeyRegistry
from services.county.projections.bulk import insert_all
from services.county.projections.events import Fact, subject_of
from services.county.projections.writer import project
from shared import envelope, receipt
from shared.catalog.node import NodeKeyRotated
from shared.receipt import Receipt
from shared.signing import Job, Signer, verify_all
from shared.wire import events_subject

log = logging.getLogger("tongxin.county.ingest")


class Outcome(enum.StrEnum):
    ARCHIVED = "archived"
    DUPLICATE = "duplicate"
    HELD = "held"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Incoming:
    data: bytes
    subject: str
    received_at: str = field(default_factory=lambda: envelope.format_time(datetime.now(UTC)))
    pre: Pre | None = field(default=None, compare=False, repr=False)
    """Its `precheck`, if `Ingestor.prepare` has worked it out ahead."""


@dataclass
class Head:
    last_seq: int
    last_hash: str
    row: dict[str, object] | None = None
    received_at: str | None = None
    """When the head envelope arrived, if it was archived in this transaction."""


ANALYZE_MIN_ROWS = 10_000
"""PostgreSQL's statistics on the archive are refreshed after the first batch if the archive was
never analysed, then whenever the events archived since the last refresh reach half the archive
(at least this many). A refresh takes 0.1–0.5 s once the archive is large: it runs beside the
ingest, on its own connection (ANALYZE does not block writes), and rarely, since stale
statistics only hurt while the archive is small and grows fast."""


class Ingestor:
    """Ingests batches; with a county `signer` it also issues a receipt for each node whose
    archived head advanced, stored with the batch and queued in `outbox` for publishing."""

    def __init__(self, engine: Engine, county_id: str, signer: Signer | None = None) -> None:
        self.engine = engine
        self.county_id = county_id
        self.signer = signer
        self.keys = KeyRegistry(engine)
        self.counts: Counter[str] = Counter()
        self.outbox: list[Receipt] = []
        self._unanalyzed = 0
        self._analyze_after: int | None = None  # PostgreSQL: learnt at the first batch
        self.analyzer: threading.Thread | None = None
        """The statistics refresh running beside the ingest, if any (PostgreSQL)."""

    def prepare(
        self, batch: list[Incoming], verify: Callable[[list[Job]], list[bool]] = verify_all
    ) -> list[Incoming]:
        """The batch with each message's `precheck` (no database access), its signatures checked
        by `verify`: the consumer runs this in a worker thread for the next batch while `process`
        commits the current one, with a `VerifyPool` checking the signatures in another process."""
        todo = [item for item in batch if item.pre is None]
        pres = iter(precheck([item.data for item in todo], self.keys, verify))
        return [item if item.pre else replace(item, pre=next(pres)) for item in batch]

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        """Handle a batch in one transaction; raises (nothing committed) on a database failure."""
        try:
            with self.engine.begin() as conn:
                run = _Run(conn, self.county_id, self.keys, self.signer)
                run.preload({item.pre.env.node_id for item in batch if item.pre is not None})
                outcomes = [run.place(item) for item in batch]
                run.finish()
        except BaseException:
            self.keys.refresh()  # forget key rotations of the rolled-back batch
            raise
        self.outbox += run.receipts
        self.counts.update(outcomes)
        if self.engine.dialect.name == "postgresql":
            if self._analyze_after is None:
                rows = self._archive_rows()
                self._analyze_after = 0 if rows < 0 else max(ANALYZE_MIN_ROWS, rows // 2)
            self._unanalyzed += sum(o is Outcome.ARCHIVED for o in outcomes)
            if self._unanalyzed >= self._analyze_after:
                self._analyze()
        return outcomes

    def _archive_rows(self) -> int:
        """PostgreSQL's estimate of the archive's rows (-1: never analysed)."""
        with self.engine.connect() as conn:
            query = "SELECT reltuples FROM pg_class WHERE relname = 'archive'"
            return int(conn.exec_driver_sql(query).scalar() or 0)

    def _analyze(self) -> None:
        """Keep PostgreSQL's statistics fresh even where autovacuum is off (without them the
        planner scans the whole archive to re-derive a batch's members), in a thread: the
        ingest goes on meanwhile. One refresh at a time."""
        if self.analyzer is not None and self.analyzer.is_alive():
            return
        self._unanalyzed = 0
        self.analyzer = threading.Thread(target=self._refresh_statistics, name="analyze-archive", daemon=True)
        self.analyzer.start()

    def _refresh_statistics(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE archive")
                conn.commit()
            self._analyze_after = max(ANALYZE_MIN_ROWS, self._archive_rows() // 2)
        except Exception as exc:  # the next batch past the threshold tries again
            log.warning("ANALYZE archive failed", extra={"error": repr(exc)})


class _Run:
    """The state of one transaction: node heads, archived facts, subjects to re-derive."""

    def __init__(
        self, conn: Connection, county_id: str, keys: KeyRegistry, signer: Signer | None = None
    ) -> None:
        self.conn = conn
        self.county_id = county_id
        self.keys = keys
        self.signer = signer
        self.receipts: list[Receipt] = []
        self.heads: dict[str, Head] = {}
        self.facts: list[Fact] = []
        self.subjects: set[str] = set()
        self.rows: list[dict[str, object]] = []
        self.hashes: dict[tuple[str, int], str] = {}
        self.held: dict[str, set[int]] = {}

    def place(self, item: Incoming) -> Outcome:
        try:
            return self._place(check(item.data, item.subject, self.county_id, self.keys, item.pre), item)
        except RefusedError as rej:
            if self._beyond_an_unseen_rotation(rej):
                return self._hold(envelope.decode(item.data), item)  # checked again when drained
            self.quarantine(item, rej)
            return Outcome.QUARANTINED

    def _place(self, c: Checked, item: Incoming) -> Outcome:
        env = c.env
        head = self._head(env.node_id)
        if env.seq <= head.last_seq:
            return self._duplicate(env)
        if env.seq > head.last_seq + 1:
            return self._hold(env, item)
        self._archive(c, item, head)
        self._drain_held(env.node_id, head)
        return Outcome.ARCHIVED

    def _beyond_an_unseen_rotation(self, rej: RefusedError) -> bool:
        """An unknown key past a gap may be the one a not-yet-archived rotation names."""
        return (
            rej.reason == "unknown_key"
            and rej.node_id is not None
            and rej.seq is not None
            and rej.seq > self._head(rej.node_id).last_seq + 1
        )

    def preload(self, node_ids: set[str]) -> None:
        """Read the heads and held seqs of these nodes in two queries, not two per node."""
        todo = sorted(node_ids - self.heads.keys())
        if not todo:
            return
        query = select(t.node_heads).where(t.node_heads.c.node_id.in_(todo))
        rows = {row["node_id"]: row for row in self.conn.execute(query).mappings()}
        for node_id in todo:
            self.heads[node_id] = _head_of(rows.get(node_id))
            self.held.setdefault(node_id, set())
        held = select(t.held.c.node_id, t.held.c.seq).where(t.held.c.node_id.in_(todo))
        for node_id, seq in self.conn.execute(held):
            self.held[node_id].add(seq)

    def _head(self, node_id: str) -> Head:
        if node_id not in self.heads:
            query = select(t.node_heads).where(t.node_heads.c.node_id == node_id)
            self.heads[node_id] = _head_of(self.conn.execute(query).mappings().first())
        return self.heads[node_id]

    def _duplicate(self, env: envelope.Envelope) -> Outcome:
        archived = (
            self.hashes.get((env.node_id, env.seq))
            or self.conn.execute(
                select(t.archive.c.hash).where(t.archive.c.node_id == env.node_id, t.archive.c.seq == env.seq)
            ).scalar_one()
        )
        if archived != env.hash:
            raise RefusedError(
                "conflicting_duplicate", f"seq {env.seq} is archived with another hash", env.node_id, env.seq
            )
        return Outcome.DUPLICATE

    def _hold(self, env: envelope.Envelope, item: Incoming) -> Outcome:
        if env.seq in self._held_seqs(env.node_id):
            held = self.conn.execute(
                select(t.held.c.envelope).where(t.held.c.node_id == env.node_id, t.held.c.seq == env.seq)
            ).scalar_one()
            if envelope.decode(held).hash != env.hash:
                raise RefusedError(
                    "conflicting_duplicate", f"seq {env.seq} is held with another hash", env.node_id, env.seq
                )
            return Outcome.DUPLICATE
        row = {"node_id": env.node_id, "seq": env.seq, "received_at": item.received_at, "envelope": item.data}
        self.conn.execute(t.held.insert(), [row])
        self.held[env.node_id].add(env.seq)
        return Outcome.HELD

    def _held_seqs(self, node_id: str) -> set[int]:
        """The seqs held for a node: read once per batch, then kept in step."""
        if node_id not in self.held:
            query = select(t.held.c.seq).where(t.held.c.node_id == node_id)
            self.held[node_id] = set(self.conn.execute(query).scalars())
        return self.held[node_id]

    def _archive(self, c: Checked, item: Incoming, head: Head) -> None:
        """Queue the next envelope of a node for the archive (written in one statement at finish)."""
        env = c.env
        if env.prev_hash != head.last_hash:
            raise RefusedError(
                "broken_chain", f"prev_hash does not link to seq {head.last_seq}", env.node_id, env.seq
            )
        subject = subject_of(c.body)
        self.rows.append(
            {
                "node_id": env.node_id,
                "seq": env.seq,
                "event_id": env.event_id,
                "type": env.type,
                "schema": env.schema,
                "subject": subject,
                "occurred_at": env.occurred_at,
                "recorded_at": env.recorded_at,
                "received_at": item.received_at,
                "hash": env.hash,
                "envelope": envelope.encode(env).decode(),
            }
        )
        self.hashes[(env.node_id, env.seq)] = env.hash
        head.last_seq, head.last_hash, head.received_at = env.seq, env.hash, item.received_at
        skew = int((env.recorded - datetime.fromisoformat(item.received_at)).total_seconds())
        head.row = {
            "node_id": env.node_id,
            "last_seq": env.seq,
            "last_hash": env.hash,
            # a held envelope carries its own (earlier) arrival time: last_seen never goes back
            "last_seen": max(item.received_at, str(head.row["last_seen"]) if head.row else ""),
            "last_recorded_at": env.recorded_at,
            "max_skew_s": max(skew, int(head.row["max_skew_s"]) if head.row else 0),  # type: ignore[call-overload]
        }
        self.facts.append(Fact(env.node_id, env.seq, env.occurred_at, env.type, c.body))
        if isinstance(c.body, NodeKeyRotated):
            self.keys.rotate(self.conn, env.node_id, env.key_id, env.seq, c.body.new_public_key)
        if subject is not None:
            self.subjects.add(subject)

    def _drain_held(self, node_id: str, head: Head) -> None:
        """Archive held envelopes that now follow the head, in seq order."""
        while head.last_seq + 1 in self._held_seqs(node_id):
            seq = head.last_seq + 1
            self.held[node_id].discard(seq)
            where = (t.held.c.node_id == node_id, t.held.c.seq == seq)
            row = self.conn.execute(select(t.held.c.envelope, t.held.c.received_at).where(*where)).one()
            self.conn.execute(delete(t.held).where(*where))
            item = Incoming(bytes(row.envelope), events_subject(self.county_id, node_id), row.received_at)
            try:
                self._archive(check(item.data, item.subject, self.county_id, self.keys), item, head)
            except RefusedError as rej:
                self.quarantine(item, rej)
                return

    def quarantine(self, item: Incoming, rej: RefusedError) -> None:
        quarantine(self.conn, item, rej)

    def finish(self) -> None:
        insert_all(self.conn, t.archive, self.rows)
        if self.facts:
            project(self.conn, self.facts, self.subjects)
        upsert(self.conn, t.node_heads, [h.row for h in self.heads.values() if h.row is not None])
        if self.signer is not None:
            self._issue_receipts(self.signer)

    def _issue_receipts(self, signer: Signer) -> None:
        issued_at = envelope.format_time(datetime.now(UTC))
        for node_id, head in sorted(self.heads.items()):
            if head.received_at is None:
                continue
            self.receipts.append(
                receipt.issue(
                    signer,
                    county_id=self.county_id,
                    node_id=node_id,
                    seq=head.last_seq,
                    hash=head.last_hash,
                    received_at=head.received_at,
                    issued_at=issued_at,
                )
            )
        rows = [msgspec.structs.asdict(r) for r in self.receipts]
        insert_ignore(self.conn, t.receipts, [{k: v for k, v in r.items() if k != "county_id"} for r in rows])


def _head_of(row: Any) -> Head:
    return Head(row["last_seq"], row["last_hash"], dict(row)) if row else Head(0, envelope.GENESIS_HASH)


def quarantine(conn: Connection, item: Incoming, rej: RefusedError) -> None:
    """Keep a refused message with its reason and raw bytes (never drop it)."""
    conn.execute(
        t.quarantine.insert().values(
            received_at=item.received_at,
            nats_subject=item.subject,
            node_id=rej.node_id,
            seq=rej.seq,
            reason=rej.reason,
            detail=rej.detail,
            raw=item.data,
        )
    )


def open_quarantine_count(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(t.quarantine).where(t.quarantine.c.resolved_at.is_(None))
        ).scalar_one()
    )


def retry_quarantine(ingestor: Ingestor, ids: list[int] | None = None) -> tuple[int, int]:
    """Re-process open quarantine rows (e.g. after enrolling their node), in chain order.

    Returns (resolved, still quarantined). A row that fails again keeps its place, with the
    new reason; nothing is quarantined twice.
    """
    resolved = still = 0
    with ingestor.engine.begin() as conn:
        query = select(t.quarantine).where(t.quarantine.c.resolved_at.is_(None))
        if ids:
            query = query.where(t.quarantine.c.id.in_(ids))
        rows = sorted(
            conn.execute(query).mappings().all(),
            key=lambda r: (r["node_id"] or "\uffff", r["seq"] or 0, r["id"]),
        )
        ingestor.keys.refresh()
        run = _Run(conn, ingestor.county_id, ingestor.keys)
        now = envelope.format_time(datetime.now(UTC))
        for row in rows:
            item = Incoming(bytes(row["raw"]), row["nats_subject"], row["received_at"])
            try:
                run._place(check(item.data, item.subject, ingestor.county_id, ingestor.keys), item)
            except RefusedError as rej:
                conn.execute(
                    t.quarantine.update()
                    .where(t.quarantine.c.id == row["id"])
                    .values(reason=rej.reason, detail=rej.detail, node_id=rej.node_id, seq=rej.seq)
                )
                still += 1
                continue
            conn.execute(t.quarantine.update().where(t.quarantine.c.id == row["id"]).values(resolved_at=now))
            resolved += 1
        run.finish()
    return resolved, still
