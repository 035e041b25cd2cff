"""The county's receipts as this node keeps them: proof of what the county acknowledged."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from services.branch_node.envelopes import EnvelopeStore
from shared import envelope, receipt
from shared.receipt import Receipt
from shared.signing import Verifier

log = logging.getLogger("tongxin.node.receipts")

SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    seq INTEGER PRIMARY KEY,
    receipt BLOB NOT NULL,
    verified INTEGER NOT NULL,
    matches INTEGER NOT NULL
);
"""


class ReceiptStatus(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    issued_at: str
    verified: bool
    """Signed by the county key this node was given (False if it was given none)."""
    matches: bool
    """The acknowledged hash is this node's own hash at that seq."""


class HeldReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """A receipt as the node keeps it, with what it found when it was accepted."""

    receipt: Receipt
    verified: bool
    matches: bool


class ReceiptBook:
    def __init__(self, envelopes: EnvelopeStore, county_key: Verifier | None) -> None:
        self.envelopes = envelopes
        self.county_key = county_key
        if not envelopes.read_only:
            with envelopes.lock:
                envelopes.conn.executescript(SCHEMA)

    def accept(self, r: Receipt, node_id: str) -> ReceiptStatus | None:
        """Keep a receipt for this node; None if it is not about this node or already kept."""
        if r.node_id != node_id:
            return None
        verified = self.county_key is not None and r.verify(self.county_key)
        ours = self.envelopes.after(r.seq - 1, 1)
        matches = bool(ours) and ours[0][0] == r.seq and envelope.decode(ours[0][1]).hash == r.hash
        if not matches:
            log.error("the county acknowledged a history this node did not record", extra={"seq": r.seq})
        with self.envelopes.lock:
            cur = self.envelopes.conn.execute(
                "INSERT OR IGNORE INTO receipts VALUES (?, ?, ?, ?)",
                (r.seq, receipt.encode(r), verified, matches),
            )
        if cur.rowcount == 0:
            return None
        return ReceiptStatus(seq=r.seq, issued_at=r.issued_at, verified=verified, matches=matches)

    def last(self) -> ReceiptStatus | None:
        with self.envelopes.lock:
            row = self.envelopes.conn.execute(
                "SELECT receipt, verified, matches FROM receipts ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        r = receipt.decode(bytes(row[0]))
        return ReceiptStatus(seq=r.seq, issued_at=r.issued_at, verified=bool(row[1]), matches=bool(row[2]))

    def all(self) -> list[Receipt]:
        return [h.receipt for h in self.held()]

    def held(self) -> list[HeldReceipt]:
        """Every receipt kept, in seq order."""
        with self.envelopes.lock:
            rows = self.envelopes.conn.execute(
                "SELECT receipt, verified, matches FROM receipts ORDER BY seq"
            ).fetchall()
        return [
            HeldReceipt(receipt=receipt.decode(bytes(r[0])), verified=bool(r[1]), matches=bool(r[2]))
            for r in rows
        ]


def read_receipts(log_path: Path) -> list[HeldReceipt]:
    """The receipts kept in a node's log.db, opened read-only: nothing is created or written, and
    only log.db is needed (not the node's keys), so a copy of a data dir given to an auditor will do.

    Raises sqlite3.Error when the file is missing or holds no receipts table.
    """
    store = EnvelopeStore(log_path, read_only=True)
    try:
        return ReceiptBook(store, None).held()
    finally:
        store.close()
