"""Recruitment under dual review (党员发展双审制): each candidate's latest decision on each side,
the outstation's and the home organisation's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, String, Table, delete

from services.county.db.tables import metadata
from services.county.projections.fact import CANDIDATE, Fact
from services.county.projections.projection import EntityProjection, Row
from shared.catalog.mechanism import RecruitmentReviewed

recruitment = Table(
    "recruitment",
    metadata,
    Column("candidate_id", String(32), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("outstation_decision", String(10)),
    Column("home_decision", String(10)),
    Column("last_reviewed_at", String(32), nullable=False),
)


def derive_candidate(candidate_id: str, facts: Sequence[Fact]) -> Row | None:
    """Dual review (双审制): each side's latest decision."""
    row: Row | None = None
    for fact in sorted(facts, key=lambda f: f.order):
        body = fact.body
        if not isinstance(body, RecruitmentReviewed):
            continue
        if row is None:
            row = {
                "candidate_id": candidate_id,
                "org_id": body.org_id,
                "outstation_decision": None,
                "home_decision": None,
            }
        row[f"{body.side.value}_decision"] = body.decision.value
        row["last_reviewed_at"] = fact.occurred_at
    return row


def _rows(candidate_id: str, facts: Sequence[Fact], _state: Any) -> dict[Table, list[Row]]:
    row = derive_candidate(candidate_id, facts)
    return {recruitment: [row]} if row is not None else {}


def _forget(conn: Connection, candidate_ids: Sequence[str]) -> None:
    conn.execute(delete(recruitment).where(recruitment.c.candidate_id.in_(candidate_ids)))


PROJECTION = EntityProjection(
    name="recruitment",
    kind=CANDIDATE,
    tables=(recruitment,),
    claims=frozenset({"recruitment.reviewed"}),
    rows=_rows,
    forget=_forget,
)
