"""What an export holds and who signs it: the selection as asked, checked and planned against the
archive (each node's contiguous seq range), and the county id and key the export is signed under."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from services.county.audit import revoked
from services.county.audit.archive import archive_nodes
from services.county.db import tables as t
from services.county.keys import handovers
from shared import envelope
from shared.catalog.base import CHINA_STANDARD_TIME
from shared.county_key import CountyKeys
from shared.errors import FieldError
from shared.receipt import Receipt
from shared.signing import Signer, Verifier


class SelectionError(FieldError):
    """The selection is not a valid one (bad range, nothing selected); names the option."""


class UnknownNodeError(SelectionError):
    """A node that the archive does not know."""


class CountyMismatchError(SelectionError):
    """The county id or key given is not the one the archive's receipts were issued under."""


@dataclass(frozen=True)
class Selection:
    nodes: list[str] | None = None
    from_seq: int | None = None
    to_seq: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    """Dates are China dates, inclusive, of the node's clock (`recorded_at`)."""

    def check(self) -> None:
        if (self.from_seq is not None or self.to_seq is not None) and (self.date_from or self.date_to):
            raise SelectionError("from", "give a seq range or a date range, not both")
        for name in ("from_seq", "to_seq"):
            if (value := getattr(self, name)) is not None and value < 1:
                raise SelectionError(name, f"must be at least 1, not {value}")
        if self.from_seq and self.to_seq and self.to_seq < self.from_seq:
            raise SelectionError("to_seq", f"{self.to_seq} is below from_seq {self.from_seq}")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise SelectionError("to", f"{self.date_to} is before from {self.date_from}")

    def as_dict(self) -> dict[str, Any]:
        dates = {"from": self.date_from, "to": self.date_to}
        return {"nodes": self.nodes, "from_seq": self.from_seq, "to_seq": self.to_seq} | {
            k: v.isoformat() if v else None for k, v in dates.items()
        }


def china_midnight(day: date) -> str:
    """The start of a China date (UTC+8) in envelope time text: where a date range begins, and
    (of the day after) where it ends."""
    return envelope.format_time(datetime.combine(day, time(), CHINA_STANDARD_TIME))


def plan(conn: Connection, sel: Selection) -> dict[str, tuple[int, int]]:
    """Each selected node's contiguous seq range in the archive; a date range becomes the
    smallest range holding every envelope recorded on those days."""
    sel.check()
    known = archive_nodes(conn)
    for node in sel.nodes or ():
        if node not in known:
            raise UnknownNodeError("nodes", f"unknown node {node!r}")
    a = t.archive.c
    ranges: dict[str, tuple[int, int]] = {}
    for node in sel.nodes or known:
        query = select(func.min(a.seq), func.max(a.seq)).where(a.node_id == node)
        if sel.date_from:
            query = query.where(a.recorded_at >= china_midnight(sel.date_from))
        if sel.date_to:
            query = query.where(a.recorded_at < china_midnight(sel.date_to + timedelta(days=1)))
        low, high = conn.execute(query).one()
        first, last = max(low or 1, sel.from_seq or 1), min(high or 0, sel.to_seq or high or 0)
        if first <= last:
            ranges[node] = (first, last)
        elif sel.nodes:
            raise SelectionError("nodes", f"node {node!r} has no archived envelope in the selection")
    if not ranges:
        raise SelectionError("nodes", "nothing to export: no archived envelope in the selection")
    return ranges


def check_county(conn: Connection, county_id: str | None, county_key: Signer) -> None:
    """The county id and key are the archive's: some of the receipts it holds under this key (or
    one it was handed over from or to) verify as issued by `county_id` (the receipts table does
    not store the id, the signature covers it). An archive without receipts cannot tell; an
    altered one is `audit verify`'s job."""
    r = t.receipts.c
    keys = CountyKeys([Verifier(county_key.public_key)], handovers(conn) if revoked.present(conn) else [])
    query = select(t.receipts).where(r.key_id.in_(sorted(keys.keys))).order_by(r.node_id, r.seq.desc())
    rows = conn.execute(query.limit(8)).mappings().all()
    if not rows:
        other = conn.execute(select(r.key_id).limit(1)).scalar_one_or_none()
        if other is not None:
            raise CountyMismatchError(
                "county_key",
                f"the archive's receipts are signed by county key {other}, not {county_key.key_id}",
            )
        return
    if county_id is None:
        raise SelectionError(
            "county_id", "the archive holds county receipts: give the county id to export them"
        )
    if not any(Receipt(county_id=county_id, **row).verify(keys) for row in rows):
        raise CountyMismatchError(
            "county_id",
            f"{county_id!r} is not this county's id: its receipts do not verify as issued by "
            f"{county_id!r} under county key {county_key.key_id}",
        )
