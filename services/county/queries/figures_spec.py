"""How each figure reads the facts table: what `amount_fen`, `people` and `category` mean per type.

`services/county/projections/figures.py` writes one row per event with a category, an amount
in fen and a headcount; the sections below give those columns their names per event type
(a returnee investment's people are jobs, an investment lead's are households, …).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from shared.catalog.base import FundSource
from shared.catalog.chamber import ChamberMemberKind
from shared.catalog.mechanism import OrglifeKind, TrainingMode
from shared.catalog.pioneer import DisputeOutcome, DonationCause, LeadKind, ServiceLine

Tally = dict[tuple[str, str], list[int]]
"""(type, category) → [events, amount_fen, people]."""


@dataclass(frozen=True)
class Spec:
    """Names for one event type's columns; None leaves the column out (it carries nothing)."""

    amount: str | None = None
    people: str | None = None
    by: str | None = None
    categories: type[enum.StrEnum] | None = None
    """The category's enum: every value is listed, zeros included. None: free text (industry)."""


PIONEER: dict[str, Spec] = {
    "returnee.invested": Spec(amount="amount_fen", people="jobs", by="by_industry"),
    "investment.lead": Spec(people="households", by="by_kind", categories=LeadKind),
    "jobs.posted": Spec(people="notices"),
    "jobs.placed": Spec(people="people"),
    "donation.made": Spec(amount="amount_fen", by="by_cause", categories=DonationCause),
    "dispute.mediated": Spec(amount="recovered_fen", by="by_outcome", categories=DisputeOutcome),
    "legal.consulted": Spec(people="people"),
    "service.provided": Spec(people="people", by="by_line", categories=ServiceLine),
    "enterprise.founded": Spec(people="households", by="by_industry"),
    "chamber.member_joined": Spec(by="by_kind", categories=ChamberMemberKind),
    "chamber.funds_raised": Spec(amount="amount_fen"),
    "chamber.project_launched": Spec(amount="amount_fen", by="by_industry"),
}


def _values(spec: Spec, events: int, amount: int, people: int) -> dict[str, int]:
    out = {"events": events}
    if spec.amount:
        out[spec.amount] = amount
    if spec.people:
        out[spec.people] = people
    return out


def section(tally: Tally, type_: str, spec: Spec) -> dict[str, Any]:
    """One event type's totals and, if it has categories, the same per category."""
    rows = {cat: v for (ty, cat), v in tally.items() if ty == type_}
    totals = [sum(v[i] for v in rows.values()) for i in range(3)]
    out: dict[str, Any] = _values(spec, *totals)
    if spec.by:
        cats = [c.value for c in spec.categories] if spec.categories else []
        cats += sorted(c for c in rows if c not in cats)
        out[spec.by] = {c: _values(spec, *rows.get(c, [0, 0, 0])) for c in cats}
    return out


def pioneer_section(tally: Tally) -> dict[str, Any]:
    return {type_: section(tally, type_, spec) for type_, spec in PIONEER.items()}


def funds_section(tally: Tally) -> dict[str, Any]:
    """Fen received per source, spent and the balance; `received_events` and `spendings` count the
    `fund.received` and `fund.spent` events (until 2026-12 the former was called `receipts`, a word
    that names the county's signed receipts everywhere else)."""
    received = {s.value: tally.get(("fund.received", s.value), [0, 0, 0])[1] for s in FundSource}
    received_events = sum(v[0] for (ty, _), v in tally.items() if ty == "fund.received")
    spent_events, spent, _ = tally.get(("fund.spent", ""), [0, 0, 0])
    total = sum(received.values())
    return {
        "received": received,
        "received_total": total,
        "spent": spent,
        "balance": total - spent,
        "received_events": received_events,
        "spendings": spent_events,
    }


def _sessions(tally: Tally, type_: str, by: str, categories: type[enum.StrEnum]) -> dict[str, Any]:
    rows = {cat: v for (ty, cat), v in tally.items() if ty == type_}

    def values(v: list[int]) -> dict[str, int]:
        return {"sessions": v[0], "attendances": v[2]}

    return {
        **values([sum(v[i] for v in rows.values()) for i in range(3)]),
        by: {c.value: values(rows.get(c.value, [0, 0, 0])) for c in categories},
    }


def education_section(tally: Tally) -> dict[str, Any]:
    """Training by mode and organisational life by kind: sessions, and attendances (people)."""
    return {
        "training": _sessions(tally, "training.held", "by_mode", TrainingMode),
        "orglife": _sessions(tally, "orglife.held", "by_kind", OrglifeKind),
    }
