"""Fund events: the five sources (五个一点) and spending."""

from __future__ import annotations

from shared.catalog.base import EventBody, Fen, FundSource, Note, Slug, Text


class FundReceived(EventBody, frozen=True, kw_only=True, tag="fund.received"):
    org_id: Slug
    source: FundSource
    amount_fen: Fen
    note: Note = ""


class FundSpent(EventBody, frozen=True, kw_only=True, tag="fund.spent"):
    org_id: Slug
    amount_fen: Fen
    purpose: Text
