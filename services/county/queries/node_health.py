"""Node health for operators: where each enrolled node's chain stands, what is held back or quarantined."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, case, func, select

from services.county.authority.speakers import speaker_of
from services.county.db import tables as t
from services.county.queries import claims
from services.county.queries.common import NotFoundError, load_tree, now_text, seconds_between
from services.county.queries.node_names import node_name

PREVIEW_BYTES = 64
PREVIEW_CHARS = 1000
"""Enough to show a whole typical envelope (payload included) as text."""


def gaps(last_seq: int, held: list[int]) -> list[dict[str, int]]:
    """The missing seq ranges between the archived head and each held-back seq."""
    out, expected = [], last_seq + 1
    for seq in sorted(held):
        if seq > expected:
            out.append({"from": expected, "to": seq - 1, "missing": seq - expected})
        expected = max(expected, seq + 1)
    return out


def node_health(conn: Connection, node_id: str | None = None, now: str | None = None) -> dict[str, Any]:
    """Every enrolled node (or one): where its chain stands, what is held back or quarantined,
    its gaps (and `missing`, the seqs in them), worst clock skew and lag (seconds between its head
    being recorded and arriving), the re-send requests the county made (`resend_requests`) and
    the gap it is asking for now (`repairing`, None if none).

    `last_seen` is when the archived head arrived; `last_heard` is the latest arrival of anything
    from the node (archived, held or quarantined), and `silent_s` the seconds since then;
    `last_receipt` the latest county receipt for the node (seq, issued_at), None if none.
    `org_ids` and `office` say whom it speaks for (docs/authority.md), `name` what to call it
    (`node_names`), `refused_claims` how many of its archived events the projections do not apply
    for it.
    """
    now = now or now_text()
    n, h = t.nodes.c, t.node_heads.c
    query = select(t.nodes, t.node_heads).join(t.node_heads, h.node_id == n.node_id, isouter=True)
    if node_id is not None:
        query = query.where(n.node_id == node_id)
    nodes = conn.execute(query.order_by(n.node_id)).mappings().all()
    if node_id is not None and not nodes:
        raise NotFoundError("node_id", f"no enrolled node {node_id!r}")
    held: dict[str, list[int]] = defaultdict(list)
    held_at: dict[str, str] = {}
    for nid, seq, received in conn.execute(select(t.held.c.node_id, t.held.c.seq, t.held.c.received_at)):
        held[nid].append(int(seq))
        held_at[nid] = max(held_at.get(nid, ""), received)
    q = t.quarantine.c
    quarantined = {
        nid: (int(open_ or 0), last)
        for nid, open_, last in conn.execute(
            select(
                q.node_id,
                func.sum(case((q.resolved_at.is_(None), 1), else_=0)),
                func.max(q.received_at),
            ).group_by(q.node_id)
        )
    }
    receipts = _last_receipts(conn, node_id)
    refused = claims.counts(conn)
    repairs = _repairs(conn)
    keys: dict[str, list[dict[str, Any]]] = defaultdict(list)
    k = t.node_keys.c
    for r in conn.execute(select(t.node_keys).order_by(k.node_id, k.valid_from, k.key_id)).mappings():
        keys[r["node_id"]].append(
            {"key_id": r["key_id"], "valid_from": r["valid_from"], "valid_to": r["valid_to"]}
        )
    tree = load_tree(conn)
    items = []
    for r in nodes:
        nid = r["node_id"]
        last_seq = int(r["last_seq"] or 0)
        open_q, q_at = quarantined.get(nid, (0, None))
        holes = gaps(last_seq, held.get(nid, []))
        speaker = speaker_of(r)
        heard = max((x for x in (r["last_seen"], held_at.get(nid), q_at) if x), default=None)
        items.append(
            {
                "node_id": nid,
                "name": node_name(tree, nid, set(speaker.orgs)),
                "enrolled_at": r["enrolled_at"],
                "note": r["note"],
                "org_ids": sorted(speaker.orgs),
                "office": speaker.office,
                "keys": keys.get(nid, []),
                "last_seq": last_seq,
                "last_seen": r["last_seen"],
                "last_recorded_at": r["last_recorded_at"],
                "last_heard": heard,
                "held": len(held.get(nid, [])),
                "gaps": holes,
                "missing": sum(g["missing"] for g in holes),
                **repairs[nid],
                "quarantined": open_q,
                "refused_claims": refused.get(nid, 0),
                "max_skew_s": int(r["max_skew_s"] or 0),
                "lag_s": seconds_between(r["last_seen"], r["last_recorded_at"]),
                "silent_s": seconds_between(now, heard),
                "last_receipt": receipts.get(nid),
            }
        )
    unattributed = quarantined.get(None, (0, None))[0]
    return {"as_of": now, "items": items, "unattributed_quarantined": unattributed}


def _last_receipts(conn: Connection, node_id: str | None) -> dict[str, dict[str, Any]]:
    """Each node's latest county receipt: the newest issued (after a restore of the database it
    may be lower than an older one, and it is what the node trusts), the highest seq among equals."""
    r = t.receipts.c
    query = select(r.node_id, r.seq, r.issued_at).order_by(r.node_id, r.issued_at, r.seq)
    if node_id is not None:
        query = query.where(r.node_id == node_id)
    return {nid: {"seq": int(seq), "issued_at": issued} for nid, seq, issued in conn.execute(query)}


def _repairs(conn: Connection) -> dict[str, dict[str, Any]]:
    """Per node: the re-send requests the county made so far, and the gap it is asking for now."""
    r = t.repairs.c
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"resend_requests": 0, "repairing": None})
    for row in conn.execute(select(t.repairs).order_by(r.id)).mappings():
        mine = out[row["node_id"]]
        mine["resend_requests"] += int(row["requests"])
        if row["resolved_at"] is None:
            mine["repairing"] = {
                "from": int(row["from_seq"]),
                "to": int(row["to_seq"]),
                "found_at": row["found_at"],
                "requested_at": row["requested_at"],
                "requests": int(row["requests"]),
            }
    return out
