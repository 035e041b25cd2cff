"""What an audit of the archive says about revocations (`tongxin county revoke-key`).

A revocation took a node's envelopes from a seq on out of its chain, into `revoked_archive`,
with the county's receipts for them (`revoked_receipts`). The audit lists each revocation in its
notes; checks that the revoked envelopes are what the revoked keys signed (each intact and signed
by a key of the node, and linked to the one before, from the envelope before the revoked seq);
checks the revoked receipts against the county key and the revoked envelopes; and takes a
receipt a node holds that acknowledges a revoked envelope as such, not as a fault of the archive
(if the county kept it among its revoked receipts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, inspect, select

from services.county.audit.report import Claim, Fault
from services.county.db import tables as t
from services.county.db.key_tables import key_revocations, revoked_archive, revoked_receipts
from shared import envelope
from shared.county_key import CountyKeys
from shared.envelope import GENESIS_HASH
from shared.errors import FieldError
from shared.receipt import Receipt
from shared.signing import Verifier


def present(conn: Connection) -> bool:
    """Whether the database has the key lifecycle's tables (an older schema has none)."""
    return bool(inspect(conn).has_table(key_revocations.name))


@dataclass
class Revoked:
    """The revocations of some nodes and what they took out."""

    notes: list[str]
    heads: set[tuple[str, int, str]]
    """(node, seq, hash) of every revoked envelope."""
    receipts: set[tuple[str, int, str]]
    """(node, seq, hash) of every revoked county receipt."""
    faults: list[Fault]


def read(
    conn: Connection,
    nodes: list[str],
    keys: dict[str, list[tuple[str, str]]],
    county_key: CountyKeys | Verifier | None,
    county_id: str | None,
) -> Revoked:
    """The revocations of `nodes`, checked; `keys`: each node's (key id, public key) rows."""
    found = Revoked([], set(), set(), [])
    if not present(conn):
        return found
    r = key_revocations.c
    for row in conn.execute(select(key_revocations).where(r.node_id.in_(nodes)).order_by(r.id)).mappings():
        again = (
            f"; re-enrolled with key {row['new_key_id']} from seq {row['from_seq']} at {row['reenrolled_at']}"
            if row["new_key_id"]
            else "; not re-enrolled yet"
        )
        found.notes.append(
            f"{row['node_id']}: keys {row['key_ids'].replace(',', ', ')} revoked from seq {row['from_seq']} "
            f"at {row['revoked_at']} ({row['reason']}): {row['envelopes']} archived envelope(s) up to seq "
            f"{row['head_seq']} and {row['receipts']} receipt(s) kept aside as revoked, {row['held']} held "
            f"envelope(s) quarantined{again}"
        )
    _check_envelopes(conn, nodes, keys, found)
    _check_receipts(conn, nodes, county_key, county_id, found)
    return found


def _check_envelopes(
    conn: Connection, nodes: list[str], keys: dict[str, list[tuple[str, str]]], found: Revoked
) -> None:
    """Each revoked envelope intact, signed by a key of its node, linked to the one before."""
    a, v = t.archive.c, revoked_archive.c
    last: dict[tuple[int, str], tuple[int, str]] = {}
    query = select(v.revocation_id, v.node_id, v.seq, v.hash, v.envelope).where(v.node_id.in_(nodes))
    for rid, node_id, seq, stored_hash, text in conn.execute(
        query.order_by(v.revocation_id, v.node_id, v.seq)
    ):
        known = {k: Verifier.from_hex(p) for k, p in keys.get(node_id, [])}

        def fault(reason: str, node_id: str = node_id, seq: int = seq) -> None:
            found.faults.append(Fault(node_id, seq, f"revoked envelope: {reason}"))

        try:
            env = envelope.decode(text.encode())
            intact = envelope.hash_matches(env)
        except FieldError as exc:
            fault(f"not a valid envelope ({exc})")
            continue
        found.heads.add((node_id, seq, env.hash))
        key = known.get(env.key_id)
        if env.seq != seq or env.hash != stored_hash or env.node_id != node_id:
            fault("the revoked archive's columns disagree with its envelope")
        elif not intact:
            fault("hash does not match the envelope's contents (altered)")
        elif key is None or not envelope.signature_valid(env, key):
            fault(f"not signed by a key of node {node_id} (key {env.key_id})")
        before = last.get((rid, node_id))
        if before is None:
            prev = conn.execute(select(a.hash).where(a.node_id == node_id, a.seq == seq - 1)).scalar()
            before = (seq - 1, prev or GENESIS_HASH) if seq == 1 or prev is not None else None
        if before is not None and (before[0] != seq - 1 or env.prev_hash != before[1]):
            fault(f"does not link to seq {seq - 1}")
        last[(rid, node_id)] = (seq, env.hash)


def _check_receipts(
    conn: Connection,
    nodes: list[str],
    county_key: CountyKeys | Verifier | None,
    county_id: str | None,
    found: Revoked,
) -> None:
    """Each revoked county receipt signed by the county and matched by a revoked envelope."""
    c = revoked_receipts.c
    query = select(revoked_receipts).where(c.node_id.in_(nodes)).order_by(c.revocation_id, c.node_id, c.seq)
    for row in conn.execute(query).mappings():
        fields = {k: v for k, v in row.items() if k != "revocation_id"}
        found.receipts.add((row["node_id"], row["seq"], row["hash"]))
        if county_id is not None and county_key is not None:
            receipt = Receipt(county_id=county_id, **fields)
            if not receipt.verify(county_key):
                found.faults.append(
                    Fault(
                        row["node_id"],
                        row["seq"],
                        "revoked county receipt does not verify under the county key",
                    )
                )
        if (row["node_id"], row["seq"], row["hash"]) not in found.heads:
            found.faults.append(
                Fault(row["node_id"], row["seq"], "revoked county receipt acknowledges no revoked envelope")
            )


def split_claims(
    conn: Connection, claims: Iterable[Claim], revoked: Revoked
) -> tuple[list[Claim], list[str], list[Fault]]:
    """Node receipts that acknowledge a revoked envelope (and not the one archived at its seq now)
    are set aside (with a note), and each must be among the county's revoked receipts; the rest are
    checked against the archive."""
    kept: list[Claim] = []
    aside: dict[str, int] = defaultdict(int)
    faults: list[Fault] = []
    a = t.archive.c
    for claim in claims:
        r = claim.receipt
        head = (r.node_id, r.seq, r.hash)
        archived = select(a.hash).where(a.node_id == r.node_id, a.seq == r.seq)
        if head not in revoked.heads or conn.execute(archived).scalar() == r.hash:
            kept.append(claim)
            continue
        aside[r.node_id] += 1
        if head not in revoked.receipts:
            lack = f"the county's revoked receipts lack the {claim.source} receipt for seq {r.seq}"
            faults.append(Fault(r.node_id, r.seq, lack))
    notes = [
        f"{node}: {n} node receipt(s) acknowledge revoked envelopes" for node, n in sorted(aside.items())
    ]
    return kept, notes, faults
