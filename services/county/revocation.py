"""Revoking a node's keys from a seq on (`tongxin county revoke-key`).

A leaked node key lets whoever holds it sign envelopes as the node — a `node.key_rotated` to a key
of their own included. Revoking the node's keys from seq N means: no key the node has on record
signs seq N or later any more (an envelope signed so is quarantined `key_revoked`), and what the
county archived of the node from N on leaves the chain, in one transaction:

- the archived envelopes from N on move, byte for byte, to `revoked_archive`, and the county's
  receipts for them to `revoked_receipts`, beside the revocation (`key_revocations`) that says who
  revoked what, when and why: an auditor sees them there (`tongxin audit verify` checks them);
- envelopes held behind a gap from N on are quarantined `key_revoked`;
- the node's head goes back to the last envelope before N, and every projection is rebuilt from
  the archive as it now is, so the projection digest is what a replay of the archive gives.

The node comes back with a new key from N on (`reenrol`, `tongxin county enrol-node … --from-seq
N`), its chain continuing from the last envelope before N; its own envelopes from N are signed
again with the new key at the node (`tongxin node rekey`). See docs/operations.md, "Key lifecycle".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Integer, Table, delete, func, literal, select

from services.county.db import tables as t
from services.county.db.key_tables import key_revocations, revoked_archive, revoked_receipts
from services.county.ingest import quarantine
from services.county.ingest.checks import RefusedError
from services.county.ingest.incoming import Incoming
from services.county.projections.rebuild import rebuild
from shared import envelope
from shared.errors import FieldError
from shared.wire import events_subject

MAX_REASON = 500


@dataclass
class Revocation:
    """What a revocation does (or, planned, would do) to one node."""

    node_id: str
    from_seq: int
    key_ids: list[str]
    head_seq: int
    envelopes: int
    receipts: int
    held: int
    first: list[tuple[int, str, str]] = field(default_factory=list)
    """The first archived envelopes it takes out: (seq, type, key id)."""
    id: int | None = None
    reason: str = ""


def _affected(conn: Connection, node_id: str, from_seq: int) -> list[str]:
    """The node's keys that sign some seq from `from_seq` on (as node_keys says now)."""
    c = t.node_keys.c
    reaches = (c.valid_to_seq.is_(None) | (c.valid_to_seq >= from_seq)) & (
        c.revoked_from_seq.is_(None) | (c.revoked_from_seq > from_seq)
    )
    query = select(c.key_id).where(c.node_id == node_id, reaches).order_by(c.valid_from_seq, c.key_id)
    return list(conn.execute(query).scalars())


def plan(conn: Connection, node_id: str, from_seq: int) -> Revocation:
    """What revoking the node's keys from `from_seq` would do; refuses an unknown node, a seq
    below 1, and a revocation that would change nothing (no key signs from there on)."""
    if from_seq < 1:
        raise FieldError("from_seq", "must be 1 or more")
    if conn.execute(select(t.nodes.c.node_id).where(t.nodes.c.node_id == node_id)).first() is None:
        raise FieldError("node_id", f"node {node_id} is not enrolled")
    keys = _affected(conn, node_id, from_seq)
    if not keys:
        raise FieldError(
            "from_seq", f"no key of node {node_id} signs seq {from_seq} or later: nothing to revoke"
        )
    a = t.archive.c
    head = conn.execute(select(t.node_heads.c.last_seq).where(t.node_heads.c.node_id == node_id)).scalar()

    def count(table: Table) -> int:
        query = select(func.count()).select_from(table).where(*_from(table, node_id, from_seq))
        return int(conn.execute(query).scalar_one())

    first = conn.execute(
        select(a.seq, a.type, a.envelope).where(*_from(t.archive, node_id, from_seq)).order_by(a.seq).limit(5)
    ).all()
    return Revocation(
        node_id,
        from_seq,
        keys,
        int(head or 0),
        count(t.archive),
        count(t.receipts),
        count(t.held),
        [(seq, type_, envelope.decode(text.encode()).key_id) for seq, type_, text in first],
    )


def _from(table: Table, node_id: str, from_seq: int) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The node's rows of `table` from `from_seq` on."""
    return table.c.node_id == node_id, table.c.seq >= from_seq


def revoke(
    conn: Connection, county_id: str, node_id: str, from_seq: int, reason: str, *, now: datetime | None = None
) -> Revocation:
    """Revoke the node's keys from `from_seq` on, in `conn`'s transaction (see the module)."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise FieldError("reason", f"say why, in 1 to {MAX_REASON} characters")
    at = envelope.format_time(now or datetime.now(UTC))
    _lock(conn, node_id)
    planned = plan(conn, node_id, from_seq)
    row = {"node_id": node_id, "from_seq": from_seq, "reason": reason, "revoked_at": at}
    counts = {"key_ids": ",".join(planned.key_ids), "head_seq": planned.head_seq, "envelopes": 0}
    inserted = conn.execute(key_revocations.insert().values(**row, **counts, receipts=0, held=0))
    assert inserted.inserted_primary_key is not None
    rid = int(inserted.inserted_primary_key[0])
    k = t.node_keys.c
    conn.execute(
        t.node_keys.update()
        .where(k.node_id == node_id, k.key_id.in_(planned.key_ids))
        .values(revoked_from_seq=from_seq, revocation_id=rid)
    )
    moved = _move(conn, rid, t.archive, revoked_archive, node_id, from_seq)
    acknowledged = _move(conn, rid, t.receipts, revoked_receipts, node_id, from_seq)
    held = _quarantine_held(conn, county_id, node_id, from_seq, planned.key_ids)
    _step_back(conn, node_id)
    conn.execute(
        key_revocations.update()
        .where(key_revocations.c.id == rid)
        .values(envelopes=moved, receipts=acknowledged, held=held)
    )
    if moved:
        rebuild(conn)
    return Revocation(
        node_id,
        from_seq,
        planned.key_ids,
        planned.head_seq,
        moved,
        acknowledged,
        held,
        planned.first,
        rid,
        reason,
    )


def _lock(conn: Connection, node_id: str) -> None:
    """Take the node's row before reading anything: on PostgreSQL for update (an ingest
    transaction takes it for share first, `KeyRegistry.hold`); on SQLite by a write,
    which makes every other writer wait and this transaction read the newest data."""
    n = t.nodes.c
    if conn.dialect.name == "postgresql":
        conn.execute(select(n.node_id).where(n.node_id == node_id).with_for_update())
    else:
        conn.execute(t.nodes.update().where(n.node_id == node_id).values(note=n.note))


def _move(conn: Connection, rid: int, source: Table, target: Table, node_id: str, from_seq: int) -> int:
    """Move the node's rows from `from_seq` on out of `source` into `target`, as they are."""
    where = _from(source, node_id, from_seq)
    names = [c.name for c in source.columns]
    conn.execute(
        target.insert().from_select(
            ["revocation_id", *names], select(literal(rid, Integer), *source.columns).where(*where)
        )
    )
    return int(conn.execute(delete(source).where(*where)).rowcount)


def _quarantine_held(conn: Connection, county_id: str, node_id: str, from_seq: int, keys: list[str]) -> int:
    """Quarantine the node's envelopes held from `from_seq` on (each signed by a revoked key)."""
    h = t.held.c
    where = _from(t.held, node_id, from_seq)
    rows = conn.execute(select(h.seq, h.received_at, h.envelope).where(*where)).all()
    for seq, received_at, data in rows:
        key_id = envelope.decode(bytes(data)).key_id
        err = RefusedError(
            "key_revoked",
            f"key {key_id} of node {node_id} is revoked from seq {from_seq}: it does not sign seq {seq}"
            + ("" if key_id in keys else " (held when its keys were revoked)"),
            node_id,
            seq,
        )
        quarantine.keep(conn, Incoming(bytes(data), events_subject(county_id, node_id), received_at), err)
    conn.execute(delete(t.held).where(*where))
    return len(rows)


def _step_back(conn: Connection, node_id: str) -> None:
    """The node's head: its last archived envelope now (none: no head row)."""
    a = t.archive.c
    last = conn.execute(
        select(a.seq, a.hash, a.recorded_at).where(a.node_id == node_id).order_by(a.seq.desc()).limit(1)
    ).first()
    where = t.node_heads.c.node_id == node_id
    if last is None:
        conn.execute(delete(t.node_heads).where(where))
        return
    conn.execute(
        t.node_heads.update()
        .where(where)
        .values(last_seq=last.seq, last_hash=last.hash, last_recorded_at=last.recorded_at)
    )
