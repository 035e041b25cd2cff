"""Conflicts (guarantee 8): facts that cannot both be true, listed, never silently resolved.

- `double_registration`: the same person registered by more than one node;
- `contradictory_status`: on one China day, status changes by more than one node that leave the
  member in different statuses (returned here, moved there).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, String, Table, Text, delete

from services.county.db.tables import metadata
from services.county.projections.fact import MEMBER, Fact, entity_key
from services.county.projections.projection import EntityProjection, Row
from shared.catalog.status import STATUS_AFTER

conflicts = Table(
    "conflicts",
    metadata,
    Column("conflict_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(80), nullable=False, index=True),
    Column("detail", Text, nullable=False),
    Column("events", Text, nullable=False),
)
"""`subject` is the entity key (`m:<member_id>`) the conflict is about; the column keeps its
name because the projection digest covers it."""


def conflict(kind: str, subject: str, detail: dict[str, Any], facts: Sequence[Fact]) -> Row:
    refs = sorted(f.ref for f in facts)
    key = hashlib.sha256(f"{kind}|{subject}|{'|'.join(refs)}".encode()).hexdigest()[:32]
    return {
        "conflict_id": key,
        "kind": kind,
        "subject": subject,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
        "events": ",".join(refs),
    }


def member_conflicts(member_id: str, found: Any) -> list[Row]:
    """The conflicts of a member's history (`roster.MemberHistory`)."""
    out: list[Row] = []
    subject = entity_key(MEMBER, member_id)
    registrations: list[Fact] = found.registrations
    if len({f.node_id for f in registrations}) > 1:
        nodes = sorted({f.node_id for f in registrations})
        out.append(conflict("double_registration", subject, {"nodes": nodes}, registrations))
    for day, changes in sorted(found.status_changes.items()):
        outcomes = {type(f.body).__struct_config__.tag for f in changes}
        if len({f.node_id for f in changes}) > 1 and len({STATUS_AFTER[type(f.body)] for f in changes}) > 1:
            detail = {"date": day, "types": sorted(str(t) for t in outcomes)}
            out.append(conflict("contradictory_status", subject, detail, changes))
    return out


def _rows(member_id: str, _facts: Sequence[Fact], found: Any) -> dict[Table, list[Row]]:
    if found is None:
        return {}
    return {conflicts: member_conflicts(member_id, found)}


def _forget(conn: Connection, member_ids: Sequence[str]) -> None:
    keys = [entity_key(MEMBER, m) for m in member_ids]
    conn.execute(delete(conflicts).where(conflicts.c.subject.in_(keys)))


PROJECTION = EntityProjection(
    name="conflicts",
    kind=MEMBER,
    tables=(conflicts,),
    claims=frozenset(
        {
            "member.registered",
            "member.moved",
            "member.returned",
            "member.contact_lost",
            "member.contact_restored",
            "member.transferred_out",
        }
    ),
    rows=_rows,
    forget=_forget,
)
