"""Facts (one row per pioneer, fund, education, chamber or mechanism event) and attendance."""

from __future__ import annotations

from typing import Any

from services.county.projections.events import Fact
from shared.catalog import chamber as ch
from shared.catalog import funds as fu
from shared.catalog import mechanism as me
from shared.catalog import pioneer as pi


def fact_row(fact: Fact) -> dict[str, Any] | None:
    """The figures row of an event: its organisation, category, money (fen) and headcount."""
    b = fact.body
    category, amount, people = "", 0, 0
    match b:
        case fu.FundReceived():
            category, amount = b.source.value, b.amount_fen
        case fu.FundSpent():
            amount = b.amount_fen
        case pi.ReturneeInvested():
            category, amount, people = b.industry, b.amount_fen, b.jobs
        case pi.InvestmentLead():
            category, people = b.kind.value, b.households
        case pi.JobsPosted():
            people = b.notices
        case pi.JobsPlaced():
            people = b.people
        case pi.DonationMade():
            category, amount = b.cause.value, b.cash_fen + b.in_kind_fen
        case pi.DisputeMediated():
            category, amount, people = b.outcome.value, b.recovered_fen, 1
        case pi.LegalConsulted():
            people = b.people
        case pi.ServiceProvided():
            category, people = b.line.value, b.people
        case pi.EnterpriseFounded():
            category, people = b.industry, b.households_enriched
        case ch.ChamberMemberJoined():
            category, people = b.member_kind.value, 1
        case ch.ChamberFundsRaised():
            amount = b.amount_fen
        case ch.ChamberProjectLaunched():
            category, amount, people = b.industry, b.amount_fen, 1
        case me.TrainingHeld():
            category, people = b.mode.value, len(set(b.attendees))
        case me.OrglifeHeld():
            category, people = b.kind.value, len(set(b.attendees))
        case me.LiaisonBriefing():
            category = b.host_org
        case _:
            return None
    return {
        "node_id": fact.node_id,
        "seq": fact.seq,
        "type": fact.type,
        "org_id": b.org_id,
        "category": category,
        "occurred_on": fact.china_date,
        "amount_fen": amount,
        "people": people,
    }


def attendance(fact: Fact) -> tuple[str, list[str]] | None:
    """('orglife' | 'training', attendee member ids) for events that members attend."""
    b = fact.body
    if isinstance(b, me.OrglifeHeld):
        return "orglife", sorted(set(b.attendees))
    if isinstance(b, me.TrainingHeld):
        return "training", sorted(set(b.attendees))
    return None
