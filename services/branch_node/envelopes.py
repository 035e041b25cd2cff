"""The node's signed envelopes: each logged event chained and signed, in seq order, with the
forwarding cursor beside them.

Envelopes live in the same SQLite file as the eventsourcing log. They are derived from it
deterministically (same log, same key → same bytes) and written once, so a key rotation
never changes an envelope that may already have left the node. The one exception is a rekey
after the county revoked this node's keys (`services/branch_node/rekey.py`): the envelopes from
the revoked seq on are signed again by the new key (`rekeys`), with the same hashes and links.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.branch_node.application import NodeLog
from services.branch_node.mapper import decode_recorded
from shared import envelope
from shared.catalog.node import NodeKeyRotated
from shared.chain import ROTATION, rotated_key
from shared.signing import Signer

# The envelopes' table keeps the name `seals` it had when envelopes were called seals: every
# existing data dir's log.db has it (renaming it would need a migration for no gain). In code,
# "seal" is reserved for sealing personal data (DESIGN).
SCHEMA = """
CREATE TABLE IF NOT EXISTS seals (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    envelope BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS forwarding (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    forwarded_seq INTEGER NOT NULL,
    last_ack_at TEXT
);
INSERT OR IGNORE INTO forwarding (id, forwarded_seq, last_ack_at) VALUES (1, 0, NULL);
CREATE TABLE IF NOT EXISTS rekeys (
    from_seq INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL,
    made_at TEXT NOT NULL
);
"""


class LogIntegrityError(RuntimeError):
    """The log is not what the envelopes were made from (a gap or a renumbered row)."""


@dataclass(frozen=True)
class Cursor:
    forwarded_seq: int
    last_ack_at: datetime | None


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with synchronous=FULL: a committed write survives power loss.

    Read-only, it opens an existing file as it is and can neither create nor change it.
    """
    if read_only:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class EnvelopeStore:
    """The envelopes and the forwarding cursor, on one connection to the node's log.db."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.read_only = read_only
        """Opened only to read what an existing log.db holds (its tables are not created)."""
        self.conn = connect(path, read_only=read_only)
        if not read_only:
            self.conn.executescript(SCHEMA)
        self.lock = threading.RLock()
        """One connection serves every thread of the process; transactions take turns."""

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on log.db (BEGIN IMMEDIATE … COMMIT, rolled back on an error)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def head(self) -> tuple[int, str]:
        with self.lock:
            row = self.conn.execute("SELECT seq, hash FROM seals ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, envelope.GENESIS_HASH)

    def rekeys(self) -> dict[int, str]:
        """The keys this node was given after a revocation: seq → the key that signs from it."""
        with self.lock:
            try:
                rows = self.conn.execute("SELECT from_seq, key_id FROM rekeys").fetchall()
            except sqlite3.OperationalError:  # a log.db opened read-only from before rekeys
                return {}
        return {int(seq): key_id for seq, key_id in rows}

    def signing_key_id(self, first_key_id: str) -> str:
        """The key that signs the next envelope: the first key, the one the last signed
        `node.key_rotated` named, or the one a rekey gave from the next seq on."""
        with self.lock:
            row = self.conn.execute("SELECT seq, envelope FROM seals ORDER BY seq DESC LIMIT 1").fetchone()
        rekeyed = self.rekeys().get(row[0] + 1 if row else 1)
        if rekeyed is not None:
            return rekeyed
        if row is None:
            return first_key_id
        last = envelope.decode(bytes(row[1]))
        return rotated_key(last).key_id if last.type == ROTATION else last.key_id

    def sign_pending(
        self,
        log: NodeLog,
        keys: Callable[[str], Signer],
        first_key_id: str,
        node_id: str,
        chunk: int = 2000,
    ) -> int:
        """Chain and sign every logged event not signed yet, in seq order; returns how many.

        Each is signed by the key the chain designates; after a `node.key_rotated` the next
        one is signed by the key it names.
        """
        total = 0
        while True:
            with self.write() as conn:
                seq, prev_hash = self.head()
                notes = log.notifications_after(seq, chunk)
                if not notes:  # the usual case when forwarding: `record` signed already
                    return total
                signer = keys(self.signing_key_id(first_key_id))
                rekeys = self.rekeys()
                rows = []
                for note in notes:
                    seq += 1
                    if note.id != seq:
                        raise LogIntegrityError(f"log has seq {note.id} where {seq} was expected")
                    if seq in rekeys:
                        signer = keys(rekeys[seq])
                    rec = decode_recorded(note.state)
                    env = envelope.sign(
                        node_id=node_id,
                        seq=seq,
                        event_id=str(rec.event_id),
                        body=rec.body,
                        occurred_at=rec.occurred_at,
                        recorded_at=rec.timestamp,
                        prev_hash=prev_hash,
                        signer=signer,
                    )
                    prev_hash = env.hash
                    rows.append((seq, env.event_id, env.hash, envelope.encode(env)))
                    if isinstance(rec.body, NodeKeyRotated):
                        signer = keys(rec.body.new_key_id)
                conn.executemany("INSERT INTO seals VALUES (?, ?, ?, ?)", rows)
            total += len(rows)
            if len(notes) < chunk:
                return total

    def after(self, seq: int, limit: int) -> list[tuple[int, bytes]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT seq, envelope FROM seals WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    def rows_after(self, seq: int, limit: int) -> list[tuple[int, str, bytes]]:
        """(seq, hash, envelope) after `seq`, in seq order: what the forwarder publishes."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT seq, hash, envelope FROM seals WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    def cursor(self) -> Cursor:
        with self.lock:
            seq, ack = self.conn.execute("SELECT forwarded_seq, last_ack_at FROM forwarding").fetchone()
        return Cursor(seq, datetime.fromisoformat(ack) if ack else None)

    def advance(self, seq: int, acked_at: datetime | None = None) -> None:
        """Move the forwarding cursor forward (never back) to `seq`."""
        at = (acked_at or datetime.now(UTC)).isoformat()
        with self.write() as conn:
            conn.execute(
                "UPDATE forwarding SET forwarded_seq = max(forwarded_seq, ?), last_ack_at = ?",
                (seq, at),
            )
