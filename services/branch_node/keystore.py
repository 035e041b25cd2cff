"""The node's key store (`personal.db`): its members' keys, and its own keyed index of ID numbers.

A node seals every member's personal data before it logs the event (`shared.personal`), under a
key of that member's kept here, so log.db, the envelopes, NATS and the county see only
ciphertext, while the node can still show its own clerk its own members, offline. Beside the
keys: a node-local keyed index (`identity_digest` under a random index key that never leaves this
file) from ID numbers to member ids, so the same person registered twice at this node is found
and a member keeps one id here; and which keys the county has acknowledged (`KeyAck`).

The file is created 0600 and runs with `secure_delete=ON`, so a destroyed key is overwritten in
the file; `destroy` also truncates the write-ahead log. Copies in backups live as long as those.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shared.catalog.base import Personal
from shared.errors import FieldError
from shared.personal import KEY_BYTES, MemberKey, SealError, identity_digest, new_member_id, seal, unseal

PERSONAL_FILE = "personal.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS member_keys (
    key_id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    key BLOB NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS member_keys_by_member ON member_keys (member_id);
CREATE TABLE IF NOT EXISTS identities (digest TEXT PRIMARY KEY, member_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS identities_by_member ON identities (member_id);
CREATE TABLE IF NOT EXISTS erased (member_id TEXT PRIMARY KEY, erased_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredKey:
    member_id: str
    key_id: str
    key: bytes


@dataclass
class Sealing:
    """What one `sealing()` made: undone with `KeyStore.forget` when the log refuses the batch."""

    key_ids: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)


class KeyStore:
    """`personal.db` of one data dir. Safe to share between threads; other processes (a CLI
    `node record` beside `node serve`) take turns through SQLite's write lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        with self._write():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.execute(
                "INSERT OR IGNORE INTO settings (name, value) VALUES ('index_key', ?)",
                (secrets.token_bytes(KEY_BYTES),),
            )
        row = self._conn.execute("SELECT value FROM settings WHERE name = 'index_key'").fetchone()
        self._index_key = bytes(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _indexed(self, id_number: str) -> tuple[str, str | None]:
        digest = identity_digest(self._index_key, id_number)
        row = self._conn.execute("SELECT member_id FROM identities WHERE digest = ?", (digest,)).fetchone()
        return digest, None if row is None else str(row[0])

    def assign(self, id_number: str) -> str:
        """The member this ID number is indexed to here, else a fresh random id; persists nothing."""
        with self._lock:
            return self._indexed(id_number)[1] or new_member_id()

    def member_of(self, id_number: str) -> str | None:
        with self._lock:
            return self._indexed(id_number)[1]

    @contextmanager
    def sealing(self) -> Iterator[tuple[Sealing, _Sealer]]:
        """One transaction that seals many: committed (keys before ciphertext reaches any log)
        when the block ends, rolled back if it raises."""
        made = Sealing()
        with self._write():
            yield made, _Sealer(self, made)

    def seal(self, member_id: str, personal: Personal) -> Personal:
        """`personal` sealed under the member's key (made, with the index, on first use)."""
        with self.sealing() as (_, sealer):
            return sealer.seal(member_id, personal)

    def conflict(self, member_id: str, personal: Personal) -> FieldError | None:
        """The refusal `seal` would give (the ID number is another member's here), or None."""
        if personal.id_number is None:
            return None
        with self._lock:
            indexed = self._indexed(personal.id_number)[1]
        return None if indexed in (None, member_id) else _taken(indexed)

    def _seal(self, member_id: str, personal: Personal, made: Sealing) -> Personal:
        if personal.sealed is not None:
            return personal
        assert personal.id_number is not None
        if self._conn.execute("SELECT 1 FROM erased WHERE member_id = ?", (member_id,)).fetchone():
            raise FieldError(
                "payload.member_id",
                f"member {member_id} was erased: their personal data is not recorded again",
            )
        digest, indexed = self._indexed(personal.id_number)
        if indexed is not None and indexed != member_id:
            raise _taken(indexed)
        if indexed is None:
            self._conn.execute(
                "INSERT INTO identities (digest, member_id) VALUES (?, ?)", (digest, member_id)
            )
            made.digests.append(digest)
        key = self._current(member_id)
        if key is None:
            key = MemberKey.new()
            self._conn.execute(
                "INSERT INTO member_keys (key_id, member_id, key, created_at) VALUES (?, ?, ?, ?)",
                (key.key_id, member_id, key.key, datetime.now(UTC).isoformat()),
            )
            made.key_ids.append(key.key_id)
        return seal(personal, key, member_id)

    def _current(self, member_id: str) -> MemberKey | None:
        row = self._conn.execute(
            "SELECT key_id, key FROM member_keys WHERE member_id = ? ORDER BY rowid DESC LIMIT 1",
            (member_id,),
        ).fetchone()
        return None if row is None else MemberKey(str(row[0]), bytes(row[1]))

    def forget(self, made: Sealing) -> None:
        """Undo a sealing whose events the log refused: the keys and index entries it made."""
        if not made.key_ids and not made.digests:
            return
        with self._write():
            self._conn.executemany("DELETE FROM member_keys WHERE key_id = ?", [(k,) for k in made.key_ids])
            self._conn.executemany("DELETE FROM identities WHERE digest = ?", [(d,) for d in made.digests])

    def open(self, member_id: str, personal: Personal) -> Personal | None:
        """`personal` in clear: opened with the member's key, or None when this node holds no
        such key (destroyed, or never here). A clear one is returned as it is."""
        sealed = personal.sealed
        if sealed is None:
            return personal
        with self._lock:
            row = self._conn.execute(
                "SELECT key FROM member_keys WHERE key_id = ? AND member_id = ?", (sealed.key_id, member_id)
            ).fetchone()
        if row is None:
            return None
        try:
            return unseal(personal, bytes(row[0]), member_id)
        except SealError:
            return None

    def has_keys(self, member_id: str) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM member_keys WHERE member_id = ? LIMIT 1", (member_id,))
            return row.fetchone() is not None

    def undelivered(self, limit: int = 1000) -> list[StoredKey]:
        """Keys the county has not acknowledged yet, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT member_id, key_id, key FROM member_keys WHERE delivered_at IS NULL "
                "ORDER BY rowid LIMIT ?",
                (limit,),
            ).fetchall()
        return [StoredKey(str(m), str(k), bytes(key)) for m, k, key in rows]

    def count_undelivered(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT count(*) FROM member_keys WHERE delivered_at IS NULL").fetchone()
        return int(row[0])

    def delivered(self, key_id: str) -> None:
        """The county acknowledged this key (a KeyAck with `stored`, signed by a trusted key)."""
        with self._write():
            self._conn.execute(
                "UPDATE member_keys SET delivered_at = ? WHERE key_id = ? AND delivered_at IS NULL",
                (datetime.now(UTC).isoformat(), key_id),
            )

    def erase(self, member_ids: list[str]) -> int:
        """The county erased these members: destroy their keys and remember them as erased, so
        that their personal data is never sealed here again; returns how many keys went."""
        destroyed = 0
        now = datetime.now(UTC).isoformat()
        for member_id in member_ids:
            destroyed += self.destroy(member_id)
            with self._write():
                self._conn.execute("INSERT OR IGNORE INTO erased VALUES (?, ?)", (member_id, now))
        return destroyed

    def is_erased(self, member_id: str) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM erased WHERE member_id = ?", (member_id,)).fetchone()
        return row is not None

    def destroy(self, member_id: str) -> int:
        """Delete every key of the member and the index entries naming them (overwritten in the
        file, the write-ahead log truncated); returns how many keys were destroyed."""
        with self._write():
            n = self._conn.execute("DELETE FROM member_keys WHERE member_id = ?", (member_id,)).rowcount
            self._conn.execute("DELETE FROM identities WHERE member_id = ?", (member_id,))
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(n)


def _taken(member_id: str) -> FieldError:
    return FieldError(
        "payload.personal.id_number",
        f"this ID number is already registered at this node as member {member_id}",
    )


class _Sealer:
    """Seals within one open `KeyStore.sealing()` transaction."""

    def __init__(self, store: KeyStore, made: Sealing) -> None:
        self._store, self._made = store, made

    def seal(self, member_id: str, personal: Personal) -> Personal:
        return self._store._seal(member_id, personal, self._made)
