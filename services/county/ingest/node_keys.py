"""The key registry: enrolled nodes' keys with the seqs each signs, cached for ingest's checks.

Its rows start at enrolment (`services/county/registry.py`, `tongxin county enrol-node`), which
writes a node's first key; every later key comes only from the node's own chain — or, after a
revocation (`services/county/revocation.py`), from the node's re-enrolment from the revoked seq.
A revoked key signs nothing from its `revoked_from_seq` on. A revocation is made by another
process: an ingest transaction first `hold`s its nodes (a revocation waits for it, or it for the
revocation), and `current` tells at its end whether one was committed since the registry was read
(the transaction is then done again on the fresh keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from services.county.db import tables as t
from services.county.db.key_tables import key_revocations
from services.county.db.upsert import upsert
from shared.envelope import format_time
from shared.signing import Verifier


@dataclass(frozen=True)
class NodeKey:
    verifier: Verifier
    from_seq: int
    to_seq: int | None
    revoked_from: int | None = None

    def covers(self, seq: int) -> bool:
        return (
            self.from_seq <= seq
            and (self.to_seq is None or seq <= self.to_seq)
            and (self.revoked_from is None or seq < self.revoked_from)
        )


class KeyRegistry:
    """Enrolled nodes and their keys with the seqs each key signs, cached; re-read on a miss.

    A node's first key comes from enrolment; later ones from `node.key_rotated` envelopes as
    they are archived (see `rotate`), so the registry follows each node's own chain.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.keys: dict[str, dict[str, NodeKey]] = {}
        self.generation = 0
        """The newest revocation when the keys were read."""
        self.refresh()

    def refresh(self) -> None:
        keys: dict[str, dict[str, NodeKey]] = {}
        c = t.node_keys.c
        with self.engine.connect() as conn:
            generation = revocations(conn)
            for (node_id,) in conn.execute(select(t.nodes.c.node_id)):
                keys[node_id] = {}
            query = select(
                c.node_id, c.key_id, c.public_key, c.valid_from_seq, c.valid_to_seq, c.revoked_from_seq
            )
            for node_id, key_id, public, from_seq, to_seq, revoked in conn.execute(query):
                key = NodeKey(Verifier.from_hex(public), from_seq, to_seq, revoked)
                keys.setdefault(node_id, {})[key_id] = key
        self.keys, self.generation = keys, generation

    def hold(self, conn: Connection, node_ids: set[str]) -> None:
        """First in an ingest transaction, on PostgreSQL: a share lock on these nodes' rows, which
        a revocation takes for update first, so that one of the two waits for the other before
        either has written anything (on SQLite the one writer at a time does the same)."""
        if node_ids and conn.dialect.name == "postgresql":
            n = t.nodes.c
            conn.execute(select(n.node_id).where(n.node_id.in_(sorted(node_ids))).with_for_update(read=True))

    def current(self, conn: Connection) -> bool:
        """Whether no revocation was committed since the keys were read (asked last in an ingest
        transaction: one committed before it began means the batch is placed again)."""
        return revocations(conn) == self.generation

    def revoked(self, node_id: str, key_id: str, seq: int) -> int | None:
        """The seq from which key `key_id` of the node is revoked, if it is revoked at `seq`."""
        found = self.keys.get(node_id, {}).get(key_id)
        if found is None or found.revoked_from is None or seq < found.revoked_from:
            return None
        return found.revoked_from

    def lookup(self, node_id: str, key_id: str, seq: int) -> Verifier | None:
        """The key `key_id` of the node if it signs at `seq`."""
        found = self.keys.get(node_id, {}).get(key_id)
        if found is None:
            self.refresh()
            found = self.keys.get(node_id, {}).get(key_id)
        return found.verifier if found is not None and found.covers(seq) else None

    def known(self, node_id: str, key_id: str) -> Verifier | None:
        """The key `key_id` of the node as cached (no database read: safe from another thread)."""
        found = self.keys.get(node_id, {}).get(key_id)
        return found.verifier if found is not None else None

    def enrolled(self, node_id: str) -> bool:
        if node_id not in self.keys:
            self.refresh()
        return node_id in self.keys

    def holder(self, conn: Connection, new_public_hex: str) -> str | None:
        """The node that holds (or held) this public key or its key id, if any: a rotation may
        only name a key new to the county, so that no node can take over another's key."""
        new = Verifier.from_hex(new_public_hex)
        c = t.node_keys.c
        query = select(c.node_id).where((c.public_key == new_public_hex) | (c.key_id == new.key_id))
        return conn.execute(query.limit(1)).scalar_one_or_none()

    def rotate(self, conn: Connection, node_id: str, old_key_id: str, seq: int, new_public_hex: str) -> None:
        """Archiving a `node.key_rotated` at `seq`: the old key signs up to it, the new one after.
        The caller has checked the new key is free (`holder`)."""
        new = Verifier.from_hex(new_public_hex)
        c = t.node_keys.c
        now = format_time(datetime.now(UTC))
        conn.execute(
            t.node_keys.update()
            .where(c.node_id == node_id, c.key_id == old_key_id)
            .values(valid_to_seq=seq, valid_to=now)
        )
        row = {
            "key_id": new.key_id,
            "node_id": node_id,
            "public_key": new_public_hex,
            "valid_from": now,
            "valid_from_seq": seq + 1,
        }
        upsert(conn, t.node_keys, [row])
        node = self.keys.setdefault(node_id, {})
        if old_key_id in node:
            old = node[old_key_id]
            node[old_key_id] = NodeKey(old.verifier, old.from_seq, seq, old.revoked_from)
        node[new.key_id] = NodeKey(new, seq + 1, None)


def revocations(conn: Connection) -> int:
    """The id of the newest revocation (0: none)."""
    return int(conn.execute(select(func.coalesce(func.max(key_revocations.c.id), 0))).scalar_one())


class RevocationWatch:
    """Whether a revocation was made since the last `seen`, looked at every `every` seconds."""

    def __init__(self, engine: Engine, every: float = 2.0) -> None:
        self.engine, self.every = engine, every
        self.newest = -1
        self.due = 0.0

    def seen(self) -> None:
        """The newest revocation now counts as announced."""
        with self.engine.connect() as conn:
            self.newest = revocations(conn)

    def new(self, now: float) -> bool:
        if now < self.due:
            return False
        self.due = now + self.every
        with self.engine.connect() as conn:
            return revocations(conn) != self.newest
