"""A member's roster status and which events change it: one home for both services and the API."""

from __future__ import annotations

import enum

from shared.catalog.base import EventBody
from shared.catalog.member import (
    MemberContactLost,
    MemberContactRestored,
    MemberMoved,
    MemberReturned,
    MemberTransferredOut,
)


class Status(enum.StrEnum):
    """A member's roster status (the text stored in the projections is the value)."""

    OUT = "out"
    RETURNED = "returned"
    CONTACT_LOST = "contact_lost"
    TRANSFERRED_OUT = "transferred_out"


STATUS_AFTER: dict[type[EventBody], Status] = {
    MemberMoved: Status.OUT,
    MemberReturned: Status.RETURNED,
    MemberContactLost: Status.CONTACT_LOST,
    MemberContactRestored: Status.OUT,
    MemberTransferredOut: Status.TRANSFERRED_OUT,
}
"""A member's status after each event that changes it (registration starts at OUT)."""

REGISTERED_STATUS = Status.OUT
"""The status a member starts with at registration."""

ACTIVE: tuple[str, ...] = (Status.OUT.value, Status.CONTACT_LOST.value)
"""Statuses of a member still away: on the roster as out, co-managed by the outstation and the
host organisation."""

STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
