"""The county's signed receipts (DESIGN §3.2): one per node whose archived head advanced in a batch.

A receipt tells a node how far the county holds its chain ("forwarded" means "confirmed by a
receipt"). It is stored in the batch's own transaction, so it never claims more than was
committed; the consumer publishes it after the commit. While the county key is rotated, each is
co-signed by the previous key and carries the handovers (`services.county.keys.CountySigning`);
the table keeps the current key's signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec
from sqlalchemy import Connection

from services.county.db import tables as t
from services.county.db.upsert import insert_ignore
from services.county.ingest.placement import Head
from services.county.keys import CountySigning
from shared import envelope, receipt
from shared.receipt import Receipt
from shared.signing import Signer

STORED = ("node_id", "seq", "hash", "received_at", "issued_at", "key_id", "sig")
"""The receipts table's columns (the county id is the county's own; co-signatures are not kept)."""


def issue(
    conn: Connection, signer: Signer | CountySigning, county_id: str, heads: Mapping[str, Head]
) -> list[Receipt]:
    """Sign a receipt for each node whose head was archived in this transaction, and store them."""
    signing = signer if isinstance(signer, CountySigning) else CountySigning(signer)
    issued_at = envelope.format_time(datetime.now(UTC))
    cosigners = signing.cosigners(issued_at)
    issued: list[Receipt] = []
    for node_id, head in sorted(heads.items()):
        if head.received_at is None:
            continue
        issued.append(
            receipt.issue(
                signing.signer,
                cosigners=cosigners,
                handovers=signing.handovers,
                county_id=county_id,
                node_id=node_id,
                seq=head.last_seq,
                hash=head.last_hash,
                received_at=head.received_at,
                issued_at=issued_at,
            )
        )
    rows = [msgspec.structs.asdict(r) for r in issued]
    insert_ignore(conn, t.receipts, [{k: r[k] for k in STORED} for r in rows])
    return issued
