"""The county's receipts as this node keeps them: proof of what the county acknowledged.

The node trusts the newest-issued receipt, not the highest: after the county's database is
restored from a backup, the county announces its real heads with fresh receipts that are lower
than the ones it issued before, and the node must believe them (and re-send what the county
lost). A receipt names a seq and a hash; when the newest one names a seq this node's log does not
hold, or holds with another hash, the two histories have forked (`Fork`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from services.branch_node.county_trust import CountyTrust
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
ISSUED_AT = "ALTER TABLE receipts ADD COLUMN issued_at TEXT"
"""Added to log.db files made before receipts were ordered by issue time (filled in on open)."""


class ReceiptStatus(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    issued_at: str
    verified: bool
    """Signed by the county key this node was given (False if it was given none)."""
    matches: bool
    """The acknowledged hash is this node's own hash at that seq."""


class Fork(msgspec.Struct, frozen=True, kw_only=True):
    """The county holds a history of this node that its log does not: forwarding stops until
    `tongxin node recover` has fetched the county's copy back."""

    seq: int
    """The seq of the newest receipt, which names what the county holds."""
    reason: str


class HeldReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """A receipt as the node keeps it, with what it found when it was accepted."""

    receipt: Receipt
    verified: bool
    matches: bool


class ReceiptBook:
    """The receipts a node keeps; `county_key`: the county keys it trusts (`CountyTrust`, or one
    key), None or none at all: every receipt is kept, unverified."""

    def __init__(self, envelopes: EnvelopeStore, county_key: CountyTrust | Verifier | None) -> None:
        self.envelopes = envelopes
        self.county_key = county_key
        if not envelopes.read_only:
            with envelopes.lock:
                envelopes.conn.executescript(SCHEMA)
                _add_issued_at(envelopes)

    def has_key(self) -> bool:
        """Whether this node checks receipts (it was given a county key)."""
        trust = self.county_key
        return trust is not None and (isinstance(trust, Verifier) or bool(trust.trusted()))

    def trusts(self, r: Receipt) -> bool:
        """Whether a receipt counts: signed (or co-signed) by a county key this node trusts (any
        receipt, if it was given none)."""
        trust = self.county_key
        if not self.has_key() or trust is None:
            return True
        if isinstance(trust, Verifier):
            return r.signed_by([trust]) is not None
        return trust.check(r)

    def accept(self, r: Receipt, node_id: str) -> ReceiptStatus | None:
        """Keep a receipt for this node; None if it is not about this node, not newer than the one
        kept for its seq, or not signed by a county key this node trusts."""
        if r.node_id != node_id:
            return None
        checked = self.has_key()
        verified = checked and self.trusts(r)
        if checked and not verified:
            log.warning(
                "a receipt not signed by the county's key was ignored",
                extra={"seq": r.seq, "key_id": r.key_id},
            )
            return None
        matches = self._hash_at(r.seq) == r.hash
        with self.envelopes.lock:
            cur = self.envelopes.conn.execute(
                "INSERT INTO receipts (seq, receipt, verified, matches, issued_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (seq) DO UPDATE SET receipt = excluded.receipt, verified = excluded.verified,"
                " matches = excluded.matches, issued_at = excluded.issued_at"
                " WHERE excluded.issued_at > coalesce(receipts.issued_at, '')",
                (r.seq, receipt.encode(r), verified, matches, r.issued_at),
            )
        if cur.rowcount == 0:
            return None
        return ReceiptStatus(seq=r.seq, issued_at=r.issued_at, verified=verified, matches=matches)

    def _hash_at(self, seq: int) -> str | None:
        ours = self.envelopes.after(seq - 1, 1)
        return envelope.decode(ours[0][1]).hash if ours and ours[0][0] == seq else None

    def last(self) -> ReceiptStatus | None:
        """The newest-issued receipt (the county's latest word, even if lower than an older one)."""
        newest = self._newest()
        if newest is None:
            return None
        r, verified, matches = newest
        return ReceiptStatus(seq=r.seq, issued_at=r.issued_at, verified=verified, matches=matches)

    def _newest(self) -> tuple[Receipt, bool, bool] | None:
        with self.envelopes.lock:
            row = self.envelopes.conn.execute(
                "SELECT receipt, verified, matches FROM receipts ORDER BY issued_at DESC, seq DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (receipt.decode(bytes(row[0])), bool(row[1]), bool(row[2]))

    def confirmed(self) -> int:
        """How far the county holds this node's chain by its newest receipt, checked against the
        log as it is now; when they have forked, the highest receipt that still matches."""
        newest = self._newest()
        if newest is None:
            return 0
        r = newest[0]
        if self._hash_at(r.seq) == r.hash:
            return r.seq
        for held in reversed(self.held()):
            if held.receipt.seq < r.seq and self._hash_at(held.receipt.seq) == held.receipt.hash:
                return held.receipt.seq
        return 0

    def fork(self) -> Fork | None:
        """Whether the newest receipt names a history this node's log does not hold."""
        newest = self._newest()
        if newest is None:
            return None
        r = newest[0]
        ours = self._hash_at(r.seq)
        if ours is None:
            last = self.envelopes.head()[0]
            return Fork(seq=r.seq, reason=f"the county holds seq {r.seq}; this node's log ends at {last}")
        if ours != r.hash:
            return Fork(seq=r.seq, reason=f"the county holds seq {r.seq} with another hash than this node's")
        return None

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


def _add_issued_at(envelopes: EnvelopeStore) -> None:
    columns = {row[1] for row in envelopes.conn.execute("PRAGMA table_info(receipts)")}
    if "issued_at" in columns:
        return
    envelopes.conn.execute(ISSUED_AT)
    rows = envelopes.conn.execute("SELECT seq, receipt FROM receipts").fetchall()
    envelopes.conn.executemany(
        "UPDATE receipts SET issued_at = ? WHERE seq = ?",
        [(receipt.decode(bytes(data)).issued_at, seq) for seq, data in rows],
    )


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
