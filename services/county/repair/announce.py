"""The county's real heads, announced with fresh receipts when it starts.

After the county database is restored from a backup, the receipts stream still holds the old,
higher receipts; nodes trust the newest-issued receipt, so a fresh one at each real head tells
every node how far the county truly holds its chain, and each re-sends what the county lost. The
same goes after a revocation took a node's envelopes from a seq on out of its chain.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, and_, select

from services.county.db import tables as t
from services.county.ingest import receipts
from services.county.ingest.placement import Head
from services.county.keys import CountySigning
from shared.receipt import Receipt
from shared.signing import Signer


def announce(
    engine: Engine,
    signer: Signer | CountySigning,
    county_id: str,
    owns: Callable[[str], bool] = lambda _node_id: True,
) -> list[Receipt]:
    """A receipt, issued now, for the archived head of every node — or of those `owns` says, an
    ingest worker's (stored, to be published)."""
    h, a = t.node_heads.c, t.archive.c
    query = select(h.node_id, h.last_seq, h.last_hash, a.received_at).join(
        t.archive, and_(a.node_id == h.node_id, a.seq == h.last_seq)
    )
    with engine.begin() as conn:
        heads = {
            row.node_id: Head(int(row.last_seq), row.last_hash, received_at=row.received_at)
            for row in conn.execute(query)
            if owns(row.node_id)
        }
        return receipts.issue(conn, signer, county_id, heads)
