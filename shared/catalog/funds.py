"""Fund events: the five sources (五个一点) and spending."""

from __future__ import annotations

from shared.catalog.base import EventBody, Fen, Figure, FundSource, Note, Text
from shared.ids import Slug


class FundReceived(EventBody, frozen=True, kw_only=True, tag="fund.received"):
    FIGURE = Figure.FUNDS
    org_id: Slug
    source: FundSource
    amount_fen: Fen
    note: Note = ""


class FundSpent(EventBody, frozen=True, kw_only=True, tag="fund.spent"):
    FIGURE = Figure.FUNDS
    org_id: Slug
    amount_fen: Fen
    purpose: Text
