"""The registry of the county's business projections: who holds what, and who reacts to which event.

One look tells which projection claims which event type (as cosmicpython's `EVENT_HANDLERS`
does for handlers). The live write (`live.project`), the rebuild (`rebuild.rebuild`), the
digest (`BUSINESS_TABLES`) and the routing of events to entities (`entity_of`) all read it; a
test fails when an event type of the catalog is claimed by no projection and not listed in
`ARCHIVE_ONLY`.

Not here, because they describe arrival rather than business (guarantee 4): node health
(`node_heads`, `held`, `quarantine`, kept by the ingest, read by the queries) and receipts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import MetaData, Table

from services.county.accounts import tables as _accounts  # noqa: F401  (its tables are in the metadata)
from services.county.db import key_tables as _key_tables  # noqa: F401  (its tables are in the metadata)
from services.county.db.tables import metadata as _metadata
from services.county.personal import tables as _personal_tables  # noqa: F401  (its tables are in the metadata)
from services.county.projections import (
    attendance,
    claims,
    conflicts,
    dual_management,
    figures,
    orgs,
    recruitment,
    roster,
)
from services.county.projections.fact import CANDIDATE, MEMBER, ORG, Fact, entity_key
from services.county.projections.projection import EntityProjection, FoldProjection, Projection
from services.county.reference import tables as _reference_tables  # noqa: F401  (its tables are in the metadata)
from shared.catalog import EventBody

PROJECTIONS: tuple[Projection, ...] = (
    orgs.PROJECTION,
    roster.PROJECTION,
    dual_management.PROJECTION,
    recruitment.PROJECTION,
    attendance.PROJECTION,
    figures.PROJECTION,
    conflicts.PROJECTION,
)
"""Every business projection, in the order the digest covers their tables."""

ARCHIVE_ONLY: dict[str, str] = {
    "node.key_rotated": "changes which key signs a node's chain: the ingest's key registry applies it",
    "node.recovered": "records a node's recovery after a restore: the audit trail shows it",
}
"""Event types no projection claims, on purpose, with the reason."""

APPLIED_TO_TARGET: dict[str, str] = {
    "record.corrected": "replaces its target's record in every projection of the target's "
    "(authority/corrections.py decides it; the entity's derivation or projections/corrections.py applies it)",
    "record.voided": "withdraws its target's record from every projection of the target's (likewise)",
}
"""Event types no projection claims because they act on another event: filed under their target's
entity, they change what the projections of that event derive."""

ENTITY_PROJECTIONS = tuple(p for p in PROJECTIONS if isinstance(p, EntityProjection))
OF_KIND: dict[str, tuple[EntityProjection, ...]] = {
    kind: tuple(p for p in ENTITY_PROJECTIONS if p.kind == kind) for kind in (MEMBER, ORG, CANDIDATE)
}
"""The entity projections of each kind of entity."""
FOLD_PROJECTIONS = tuple(p for p in PROJECTIONS if isinstance(p, FoldProjection))

BUSINESS_TABLES: tuple[Table, ...] = (
    *(table for p in PROJECTIONS for table in p.tables),
    claims.refused_claims,
)
"""What the projection digest covers: every projection's tables, then the refused claims (which
the screen writes beside them, `claims`); what describes arrival (health, quarantine) is left out."""

HISTORY: dict[str, Callable[[str, Sequence[Fact]], Any]] = {MEMBER: roster.history}
"""Per entity kind, the history its projections share (derived once per entity); none for others."""

KIND_OF_TYPE: dict[str, str] = {t: p.kind for p in ENTITY_PROJECTIONS for t in p.claims}
"""Which kind of entity an event type is about (each type belongs to at most one kind)."""

_ID_FIELD = {MEMBER: "member_id", ORG: "org_id", CANDIDATE: "candidate_id"}

metadata: MetaData = _metadata
"""The county's whole schema: the archive's tables and, once this module is imported, every
projection's (the migrations' autogenerate check compares it with the database)."""


def entity_of(body: EventBody) -> str | None:
    """The entity key an event is about (`m:<member>`, `o:<org>`, `c:<candidate>`); None for the
    events about no entity (figures, attendance)."""
    kind = KIND_OF_TYPE.get(str(type(body).__struct_config__.tag))
    if kind is None:
        return None
    return entity_key(kind, getattr(body, _ID_FIELD[kind]))
