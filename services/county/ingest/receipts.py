"""The county's signed receipts (DESIGN §3.2): one per node whose archived head advanced in a batch.

A receipt tells a node how far the county holds its chain ("forwarded" means "confirmed by a
receipt"). It is stored in the batch's own transaction, so it never claims more than was
committed; the consumer publishes it after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec
from sqlalchemy import Connection

from services.county.db import tables as t
from services.county.db.upsert import insert_ignore
from services.county.ingest.placement import Head
from shared import envelope, receipt
from shared.receipt import Receipt
from shared.signing import Signer


def issue(conn: Connection, signer: Signer, county_id: str, heads: Mapping[str, Head]) -> list[Receipt]:
    """Sign a receipt for each node whose head was archived in this transaction, and store them."""
    issued_at = envelope.format_time(datetime.now(UTC))
    issued: list[Receipt] = []
    for node_id, head in sorted(heads.items()):
        if head.received_at is None:
            continue
        issued.append(
            receipt.issue(
                signer,
                county_id=county_id,
                node_id=node_id,
                seq=head.last_seq,
                hash=head.last_hash,
                received_at=head.received_at,
                issued_at=issued_at,
            )
        )
    rows = [msgspec.structs.asdict(r) for r in issued]
    insert_ignore(conn, t.receipts, [{k: v for k, v in r.items() if k != "county_id"} for r in rows])
    return issued
