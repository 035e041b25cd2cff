"""The figures' raw material: one `facts` row per pioneer, fund, education, chamber or mechanism
event, with its organisation, category, money (fen) and headcount.

A corrected event (`record.corrected`, `record.voided`) has one row per version of it
(`projections/corrections.py`): the original's, valid until the first correction's business
time (`valid_to`), and one per correction standing, under the correction's own seq, with
`version_of` the original's seq and the original's date, valid from the correction's business
time (`valid_from`) until the next; a void only ends the last. The figures count the rows in
effect (`valid_to` NULL), or as of D those valid at D (`queries/versions.py`).

`ROWS` says, per event type, what goes in those columns; the figures the API reads
(`queries/figures_spec.py`) give them names. A type missing here is claimed by no projection,
which the catalog's coverage test refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, String, Table

from services.county.db.bulk import insert_all
from services.county.db.tables import metadata
from services.county.projections.fact import Fact
from services.county.projections.projection import FoldProjection
from shared.catalog import EventBody
from shared.catalog import chamber as ch
from shared.catalog import funds as fu
from shared.catalog import mechanism as me
from shared.catalog import pioneer as pi

facts = Table(
    "facts",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("category", String(32), nullable=False, default=""),
    Column("occurred_on", String(10), nullable=False),
    Column("amount_fen", BigInteger, nullable=False, default=0),
    Column("people", BigInteger, nullable=False, default=0),
    Column("version_of", BigInteger),
    Column("valid_from", String(32)),
    Column("valid_to", String(32)),
    Index("ix_facts_type_org", "type", "org_id"),
    Index("ix_facts_version", "node_id", "version_of"),
)
"""One row per pioneer, fund, education, chamber or mechanism event: the figures' raw material."""

Columns = tuple[str, int, int]
"""(category, amount_fen, people) of one event."""

ROWS: dict[type[EventBody], Callable[[Any], Columns]] = {
    fu.FundReceived: lambda b: (b.source.value, b.amount_fen, 0),
    fu.FundSpent: lambda b: ("", b.amount_fen, 0),
    pi.ReturneeInvested: lambda b: (b.industry, b.amount_fen, b.jobs),
    pi.InvestmentLead: lambda b: (b.kind.value, 0, b.households),
    pi.JobsPosted: lambda b: ("", 0, b.notices),
    pi.JobsPlaced: lambda b: ("", 0, b.people),
    pi.DonationMade: lambda b: (b.cause.value, b.cash_fen + b.in_kind_fen, 0),
    pi.DisputeMediated: lambda b: (b.outcome.value, b.recovered_fen, 1),
    pi.LegalConsulted: lambda b: ("", 0, b.people),
    pi.ServiceProvided: lambda b: (b.line.value, 0, b.people),
    pi.EnterpriseFounded: lambda b: (b.industry, 0, b.households_enriched),
    ch.ChamberMemberJoined: lambda b: (b.member_kind.value, 0, 1),
    ch.ChamberFundsRaised: lambda b: ("", b.amount_fen, 0),
    ch.ChamberProjectLaunched: lambda b: (b.industry, b.amount_fen, 1),
    me.TrainingHeld: lambda b: (b.mode.value, 0, len(set(b.attendees))),
    me.OrglifeHeld: lambda b: (b.kind.value, 0, len(set(b.attendees))),
    me.LiaisonBriefing: lambda b: (b.host_org, 0, 0),
}


def fact_row(
    fact: Fact,
    seq: int | None = None,
    version_of: int | None = None,
    valid_from: str | None = None,
    valid_to: str | None = None,
) -> dict[str, Any] | None:
    """The figures row of an event (None for a type the figures do not claim); of a version of a
    corrected event with the version's key `seq` and validity."""
    columns = ROWS.get(type(fact.body))
    if columns is None:
        return None
    category, amount, people = columns(fact.body)
    return {
        "node_id": fact.node_id,
        "seq": fact.seq if seq is None else seq,
        "type": fact.type,
        "org_id": fact.body.org_id,  # type: ignore[attr-defined]
        "category": category,
        "occurred_on": fact.china_date,
        "amount_fen": amount,
        "people": people,
        "version_of": version_of,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def _live(conn: Connection, events: Sequence[Fact]) -> None:
    """Insert the rows of newly archived events (their keys are new)."""
    insert_all(conn, facts, [row for f in events if (row := fact_row(f)) is not None])


class _Fold:
    """Into an empty `facts` table: each chunk of events is inserted as it is read."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, events: Sequence[Fact]) -> None:
        _live(self.conn, events)

    def finish(self) -> None:
        pass


PROJECTION = FoldProjection(
    name="figures",
    tables=(facts,),
    claims=frozenset(str(cls.__struct_config__.tag) for cls in ROWS),
    live=_live,
    start=_Fold,
)
