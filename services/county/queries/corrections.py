"""Corrections as an archive's history shows them: each original marked by what corrects it.

A history (a member's card) lists every archived event about an entity, the corrections among
them (`record.corrected`, `record.voided`, filed under their target's entity). Here each
correction gains the seq it targets (`corrects`) and its `reason`, and whether it stands (the
screen did not refuse it: not among the refused claims); each original gains its `state`
(`corrected` or `voided` by the newest standing correction, else None) and its `corrections`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, select, tuple_

from services.county.db import tables as t
from services.county.projections.claims import refused_claims
from shared.catalog.correction import CORRECTION_TYPES


class _Fix(msgspec.Struct):
    target_seq: int
    reason: str


class _Said(msgspec.Struct):
    payload: _Fix


_decoder = msgspec.json.Decoder(_Said)


def annotate(conn: Connection, subject: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (node_id, seq, type … of the archived events about `subject`) with corrections marked."""
    fixes = [r for r in rows if r["type"] in CORRECTION_TYPES]
    for row in rows:
        row.update(state=None, corrections=[], corrects=None, reason=None, stands=None)
    if not fixes:
        return rows
    a, c = t.archive.c, refused_claims.c
    refs = [(r["node_id"], r["seq"]) for r in fixes]
    said = {
        (n, s): _decoder.decode(text).payload
        for n, s, text in conn.execute(
            select(a.node_id, a.seq, a.envelope).where(tuple_(a.node_id, a.seq).in_(refs))
        )
    }
    query = select(c.node_id, c.seq).where(c.subject == subject, tuple_(c.node_id, c.seq).in_(refs))
    refused = {(n, s) for n, s in conn.execute(query)}
    by_ref = {(r["node_id"], r["seq"]): r for r in rows}
    for fix in sorted(fixes, key=lambda r: r["seq"]):
        payload = said[(fix["node_id"], fix["seq"])]
        stands = (fix["node_id"], fix["seq"]) not in refused
        fix.update(corrects=payload.target_seq, reason=payload.reason, stands=stands)
        target = by_ref.get((fix["node_id"], payload.target_seq))
        if target is None:
            continue
        target["corrections"].append(
            {
                "seq": fix["seq"],
                "type": fix["type"],
                "occurred_at": fix["occurred_at"],
                "reason": payload.reason,
                "stands": stands,
            }
        )
        if stands:
            target["state"] = "voided" if fix["type"] == "record.voided" else "corrected"
    return rows
