"""Dual management (一方隶属、多方管理): every organisation besides the home branch that co-manages
a member — the outstation and host organisation while the member is away, cross posts while the
member belongs here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Index, String, Table, Text, delete

from services.county.db.tables import metadata
from services.county.projections.fact import MEMBER, Fact
from services.county.projections.projection import EntityProjection, Row
from shared.catalog.status import ACTIVE, Status

co_managers = Table(
    "co_managers",
    metadata,
    Column("member_id", String(32), primary_key=True),
    Column("org_id", String(64), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("post", Text, nullable=False, default=""),
    Index("ix_co_managers_org", "org_id"),
)
"""一方隶属、多方管理: every organisation besides the home branch that co-manages a member."""


def co_managers_of(member_id: str, state: Mapping[str, Any], posts: Mapping[str, str]) -> list[Row]:
    """Cross posts while the member belongs here; outstation and host org while they are away.
    `state` has the member's status, outstation and host_org (a roster or timeline row)."""
    if state["status"] == Status.TRANSFERRED_OUT:
        return []  # the relationship has moved to another organisation
    rows = [
        {"member_id": member_id, "org_id": org, "role": "cross_post", "post": p} for org, p in posts.items()
    ]
    if state["status"] in ACTIVE:
        for role in ("outstation", "host_org"):
            if state[role]:
                rows.append({"member_id": member_id, "org_id": state[role], "role": role, "post": ""})
    return sorted(rows, key=lambda r: (r["org_id"], r["role"]))


def _rows(member_id: str, _facts: Sequence[Fact], found: Any) -> dict[Table, list[Row]]:
    if found is None:
        return {}
    return {co_managers: co_managers_of(member_id, found.row, found.posts)}


def _forget(conn: Connection, member_ids: Sequence[str]) -> None:
    conn.execute(delete(co_managers).where(co_managers.c.member_id.in_(member_ids)))


PROJECTION = EntityProjection(
    name="dual_management",
    kind=MEMBER,
    tables=(co_managers,),
    claims=frozenset(
        {
            "member.registered",
            "member.moved",
            "member.returned",
            "member.contact_lost",
            "member.contact_restored",
            "member.transferred_out",
            "post.cross_assigned",
        }
    ),
    rows=_rows,
    forget=_forget,
)
