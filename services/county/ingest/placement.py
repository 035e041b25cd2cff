"""Chain placement per node (DESIGN §3.2–3.3): duplicates, the hold behind a gap, the drain, heads.

Where a checked envelope's seq stands against its node's archived head (`chain.standing`):
at or below it, a no-op (with another hash, refused as a conflicting duplicate); the next seq,
archived if it links to the head, and then whatever was held behind it is drained in seq
order; beyond a gap, held (not projected) until the gap fills. `Chains` keeps this state for
one transaction; what it accepts is archived and projected by the processor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from services.county.chain import Standing, next_seq, standing
from services.county.db import tables as t
from services.county.db.upsert import upsert
from services.county.ingest import quarantine
from services.county.ingest.checks import MAX_CLOCK_AHEAD, Checked, RefusedError, check
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.node_keys import KeyRegistry
from shared import envelope
from shared.catalog.node import NodeKeyRotated
from shared.wire import events_subject


@dataclass
class Head:
    last_seq: int
    last_hash: str
    row: dict[str, object] | None = None
    received_at: str | None = None
    """When the head envelope arrived, if it was archived in this transaction."""


class Chains:
    """The nodes' chains within one transaction: their heads, held seqs, what was accepted."""

    def __init__(
        self,
        conn: Connection,
        county_id: str,
        keys: KeyRegistry,
        max_clock_ahead: timedelta = MAX_CLOCK_AHEAD,
    ) -> None:
        self.conn = conn
        self.county_id = county_id
        self.keys = keys
        self.max_clock_ahead = max_clock_ahead
        self.now = datetime.now(UTC)
        """The county's clock for this transaction (`clock_skew` is judged against it)."""
        self.heads: dict[str, Head] = {}
        self.held: dict[str, set[int]] = {}
        self.hashes: dict[tuple[str, int], str] = {}
        self.accepted: list[tuple[Checked, Incoming]] = []
        """The envelopes archived in this transaction, in the order they were placed."""

    def admit(self, item: Incoming) -> Outcome:
        """Place a message; one refused is kept in quarantine (see `place`)."""
        try:
            return self.place(item)
        except RefusedError as err:
            if self._beyond_an_unseen_rotation(err):
                return self._hold(envelope.decode(item.data), item)  # checked again when drained
            quarantine.keep(self.conn, item, err)
            return Outcome.QUARANTINED

    def place(self, item: Incoming) -> Outcome:
        """Check a message and place it in its node's chain; raises `RefusedError` if refused."""
        c = self._check(item)
        env = c.env
        head = self.head(env.node_id)
        where = standing(env.seq, head.last_seq)
        if where is Standing.DUPLICATE:
            return self._duplicate(env)
        if where is Standing.BEYOND_GAP:
            return self._hold(env, item)
        self._archive(c, item, head)
        self._drain_held(env.node_id, head)
        return Outcome.ARCHIVED

    def _check(self, item: Incoming) -> Checked:
        return check(
            item.data,
            item.subject,
            self.county_id,
            self.keys,
            item.pre,
            now=self.now,
            max_clock_ahead=self.max_clock_ahead,
        )

    def _beyond_an_unseen_rotation(self, err: RefusedError) -> bool:
        """An unknown key past a gap may be the one a not-yet-archived rotation names."""
        return (
            err.reason == "unknown_key"
            and err.node_id is not None
            and err.seq is not None
            and standing(err.seq, self.head(err.node_id).last_seq) is Standing.BEYOND_GAP
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

    def head(self, node_id: str) -> Head:
        """Where the node's chain stands: as archived, then as placed in this transaction."""
        if node_id not in self.heads:
            query = select(t.node_heads).where(t.node_heads.c.node_id == node_id)
            self.heads[node_id] = _head_of(self.conn.execute(query).mappings().first())
        return self.heads[node_id]

    def save_heads(self) -> None:
        """Write the heads that moved in this transaction to `node_heads`."""
        upsert(self.conn, t.node_heads, [h.row for h in self.heads.values() if h.row is not None])

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
        """Accept the next envelope of a node: it becomes the head (archived at the commit)."""
        env = c.env
        if env.prev_hash != head.last_hash:
            raise RefusedError(
                "broken_chain", f"prev_hash does not link to seq {head.last_seq}", env.node_id, env.seq
            )
        if isinstance(c.body, NodeKeyRotated):
            self._check_rotation(env, c.body)
        self.accepted.append((c, item))
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
        if isinstance(c.body, NodeKeyRotated):
            self.keys.rotate(self.conn, env.node_id, env.key_id, env.seq, c.body.new_public_key)

    def _check_rotation(self, env: envelope.Envelope, body: NodeKeyRotated) -> None:
        """A rotation may name only a key new to the county: no node takes over another's key."""
        holder = self.keys.holder(self.conn, body.new_public_key)
        if holder is not None:
            whose = "this node already" if holder == env.node_id else f"node {holder}"
            raise RefusedError(
                "key_taken",
                f"new_public_key: the key is held by {whose}; a rotation names a key new to the county",
                env.node_id,
                env.seq,
            )

    def _drain_held(self, node_id: str, head: Head) -> None:
        """Archive held envelopes that now follow the head, in seq order."""
        while next_seq(head.last_seq) in self._held_seqs(node_id):
            seq = next_seq(head.last_seq)
            self.held[node_id].discard(seq)
            where = (t.held.c.node_id == node_id, t.held.c.seq == seq)
            row = self.conn.execute(select(t.held.c.envelope, t.held.c.received_at).where(*where)).one()
            self.conn.execute(delete(t.held).where(*where))
            item = Incoming(bytes(row.envelope), events_subject(self.county_id, node_id), row.received_at)
            try:
                self._archive(self._check(item), item, head)
            except RefusedError as err:
                quarantine.keep(self.conn, item, err)
                return


def _head_of(row: Any) -> Head:
    return Head(row["last_seq"], row["last_hash"], dict(row)) if row else Head(0, envelope.GENESIS_HASH)
