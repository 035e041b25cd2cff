"""Pioneer work (流动先锋): returnee investment, leads, jobs, donations, mediation, services."""

from __future__ import annotations

import enum

from shared.catalog.base import (
    Count,
    EventBody,
    Fen,
    FenOrZero,
    Figure,
    MemberId,
    Note,
    PositiveCount,
    Problems,
    Text,
    refuse_first,
)
from shared.ids import Slug


class LeadKind(enum.StrEnum):
    INFORMATION = "information"  # 提供一条信息
    PROJECT = "project"  # 引进一个项目
    INDUSTRY = "industry"  # 带动一方产业
    HOUSEHOLDS_ENRICHED = "households_enriched"  # 带富一批群众


class DonationCause(enum.StrEnum):
    FLOOD_RELIEF = "flood_relief"
    EPIDEMIC = "epidemic"
    POVERTY = "poverty"
    RURAL_REVITALISATION = "rural_revitalisation"


class DisputeCategory(enum.StrEnum):
    WAGES = "wages"
    INJURY = "injury"
    CONTRACT = "contract"
    FAMILY = "family"
    OTHER = "other"


class DisputeOutcome(enum.StrEnum):
    RESOLVED = "resolved"
    PARTLY_RESOLVED = "partly_resolved"
    UNRESOLVED = "unresolved"
    REFERRED = "referred"


class ServiceLine(enum.StrEnum):
    PARTY_BUILDING = "party_building"
    FAMILY_PLANNING = "family_planning"
    COMMERCE = "commerce"
    LEGAL = "legal"
    LABOUR = "labour"


class ReturneeInvested(EventBody, frozen=True, kw_only=True, tag="returnee.invested"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    enterprise: Text
    industry: Text
    amount_fen: Fen
    jobs: Count = 0
    park: Text | None = None
    member_id: MemberId | None = None


class InvestmentLead(EventBody, frozen=True, kw_only=True, tag="investment.lead"):
    """四个一: an information, a project, an industry, households enriched."""

    FIGURE = Figure.PIONEER

    org_id: Slug
    kind: LeadKind
    title: Text
    households: Count = 0
    member_id: MemberId | None = None


class JobsPosted(EventBody, frozen=True, kw_only=True, tag="jobs.posted"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    notices: PositiveCount
    positions: Count = 0


class JobsPlaced(EventBody, frozen=True, kw_only=True, tag="jobs.placed"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    people: PositiveCount


class DonationMade(EventBody, frozen=True, kw_only=True, tag="donation.made"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    cause: DonationCause
    cash_fen: FenOrZero = 0
    in_kind_fen: FenOrZero = 0
    in_kind: Note = ""

    def __post_init__(self) -> None:
        refuse_first(self.problems())

    def problems(self) -> Problems:
        if self.cash_fen == 0 and self.in_kind_fen == 0:
            yield "cash_fen", "a donation needs cash_fen or in_kind_fen above zero"


class DisputeMediated(EventBody, frozen=True, kw_only=True, tag="dispute.mediated"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    category: DisputeCategory
    outcome: DisputeOutcome
    recovered_fen: FenOrZero = 0


class LegalConsulted(EventBody, frozen=True, kw_only=True, tag="legal.consulted"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    people: PositiveCount
    topic: Note = ""


class ServiceProvided(EventBody, frozen=True, kw_only=True, tag="service.provided"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    line: ServiceLine
    people: PositiveCount


class EnterpriseFounded(EventBody, frozen=True, kw_only=True, tag="enterprise.founded"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    enterprise: Text
    industry: Text
    households_enriched: Count = 0
    member_id: MemberId | None = None
