"""Organisations: the tree of county, townships, villages, outstations, host organisations and
chambers, each with its latest secretary and liaison and its venues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, String, Table, Text, delete

from services.county.db.tables import metadata
from services.county.projections.fact import ORG, Fact
from services.county.projections.projection import EntityProjection, Row
from shared.catalog.base import VenueKind
from shared.catalog.org import OrgLiaisonAssigned, OrgRegistered, OrgSecretaryAppointed, OrgVenueOpened

orgs = Table(
    "orgs",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("parent_id", String(64)),
    Column("host_location", Text),
    Column("mode", String(32)),
    Column("secretary", Text),
    Column("liaison_leader", Text),
    Column("liaison_office", Text),
    Column("venues", Integer, nullable=False, default=0),
    Column("teaching_sites", Integer, nullable=False, default=0),
)


def derive_org(org_id: str, facts: Sequence[Fact]) -> Row | None:
    """An organisation's row: first registration, latest secretary and liaison, its venues."""
    row: Row | None = None
    venues: dict[str, VenueKind] = {}
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if isinstance(body, OrgRegistered) and row is None:
            row = {
                "org_id": org_id,
                "name": body.name,
                "kind": body.kind.value,
                "parent_id": body.parent_id,
                "host_location": body.host_location,
                "mode": body.mode.value if body.mode else None,
                "secretary": None,
                "liaison_leader": None,
                "liaison_office": None,
            }
        elif row is None:
            continue
        elif isinstance(body, OrgSecretaryAppointed):
            row["secretary"] = body.name
        elif isinstance(body, OrgLiaisonAssigned):
            row.update(liaison_leader=body.leader, liaison_office=body.office)
        elif isinstance(body, OrgVenueOpened):
            venues[body.venue_id] = body.kind
    if row is not None:
        row["venues"] = sum(1 for k in venues.values() if k is VenueKind.ACTIVITY_VENUE)
        row["teaching_sites"] = sum(1 for k in venues.values() if k is VenueKind.TEACHING_SITE)
    return row


def _rows(org_id: str, facts: Sequence[Fact], _state: Any) -> dict[Table, list[Row]]:
    row = derive_org(org_id, facts)
    return {orgs: [row]} if row is not None else {}


def _forget(conn: Connection, org_ids: Sequence[str]) -> None:
    conn.execute(delete(orgs).where(orgs.c.org_id.in_(org_ids)))


PROJECTION = EntityProjection(
    name="orgs",
    kind=ORG,
    tables=(orgs,),
    claims=frozenset(
        {"org.registered", "org.secretary_appointed", "org.liaison_assigned", "org.venue_opened"}
    ),
    rows=_rows,
    forget=_forget,
)
