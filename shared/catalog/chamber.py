"""Township chamber of commerce (乡镇商会) events."""

from __future__ import annotations

import enum

from shared.catalog.base import EventBody, Fen, FenOrZero, Figure, Text
from shared.ids import Slug


class ChamberMemberKind(enum.StrEnum):
    COMPANY = "company"
    PERSON = "person"


class ChamberMemberJoined(EventBody, frozen=True, kw_only=True, tag="chamber.member_joined"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    member_kind: ChamberMemberKind
    name: Text


class ChamberFundsRaised(EventBody, frozen=True, kw_only=True, tag="chamber.funds_raised"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    amount_fen: Fen


class ChamberProjectLaunched(EventBody, frozen=True, kw_only=True, tag="chamber.project_launched"):
    FIGURE = Figure.PIONEER
    org_id: Slug
    project: Text
    industry: Text
    amount_fen: FenOrZero = 0
