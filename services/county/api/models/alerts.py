"""What /api/v1/alerts returns: counts per kind and one page of the members who need attention."""

from __future__ import annotations

from services.county.api.models.base import Model


class AlertCounts(Model):
    """Alerts per kind, every kind listed (zeros included)."""

    no_orglife_90d: int
    untrained_this_year: int
    contact_lost: int
    recruitment_awaiting_second_review: int
    no_outstation: int


class NoOrglife(Model):
    last_orglife_at: str | None


class Untrained(Model):
    year: int
    last_trained_at: str | None


class ContactLost(Model):
    since: str | None


class NoOutstation(Model):
    host_location: str | None


class AwaitingReview(Model):
    org_id: str
    org_name: str
    approved_side: str
    awaiting_side: str
    last_reviewed_at: str


class Alert(Model):
    """A member (or, awaiting review, a candidate: no status, village or outstation) and why."""

    kind: str
    member_id: str
    name: str | None
    status: str | None
    township: str | None
    township_name: str
    village: str | None
    village_name: str | None
    outstation: str | None
    detail: NoOrglife | Untrained | ContactLost | NoOutstation | AwaitingReview
    """By kind: `last_orglife_at`; `year`, `last_trained_at`; `since`; `host_location`; the review's
    `org_id`, `org_name`, `approved_side`, `awaiting_side`, `last_reviewed_at`."""


class Alerts(Model):
    as_of: str
    """The `as_of` given, or today's China date."""
    window_days: int
    year: int
    counts: AlertCounts
    total: int
    limit: int
    offset: int
    items: list[Alert]
