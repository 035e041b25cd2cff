"""Refused claims: archived events their node was not entitled to make, listed, never projected.

The screen (`services.county.authority.screen`) decides them; this holds its verdicts, one row per
refused event with its reason and detail. An event about an entity is listed under the entity's
key (`subject`) and listed again, or no longer, whenever that entity is derived again; one about no
entity (`subject` NULL) is decided once. The rows are a function of the archive and of enrolment,
like every business projection, so the digest covers them: live, rebuild and replay agree on what
was refused, not only on what was applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, Text, delete

from services.county.authority.rules import Refusal
from services.county.db.bulk import insert_all
from services.county.db.tables import metadata
from services.county.projections.fact import Fact
from services.county.projections.projection import Row

refused_claims = Table(
    "refused_claims",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("subject", String(80)),
    Column("occurred_at", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_refused_claims_subject", "subject"),
)
"""One row per archived event the screen refused: the event (node, seq, type, business time), the
entity it is about (NULL: none) and why (`authority.rules.REASONS`)."""


def rows(refused: Iterable[tuple[Fact, Refusal]], subject: str | None = None) -> list[Row]:
    return [
        {
            "node_id": fact.node_id,
            "seq": fact.seq,
            "type": fact.type,
            "subject": subject,
            "occurred_at": fact.occurred_at,
            "reason": refusal.reason,
            "detail": refusal.detail,
        }
        for fact, refusal in refused
    ]


def write(conn: Connection, found: list[Row]) -> None:
    """Insert refused claims (their keys are new: an entity's are forgotten first)."""
    insert_all(conn, refused_claims, found)


def forget(conn: Connection, subjects: Sequence[str]) -> None:
    """Delete the refused claims about these entities (before they are derived again)."""
    conn.execute(delete(refused_claims).where(refused_claims.c.subject.in_(subjects)))
