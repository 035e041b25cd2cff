"""The node's domain model: recorded events, and the member aggregate that checks own-history rules.

Only rules that need nothing but this node's own history live here (a member must be
registered at this node before it can return); cross-node facts are the county's business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec

from shared.catalog import Event
from shared.catalog.correction import RecordVoided
from shared.catalog.member import (
    MemberContactLost,
    MemberContactRestored,
    MemberRegistered,
    MemberReturned,
)
from shared.catalog.status import REGISTERED_STATUS, STATUS_AFTER, Status
from shared.errors import FieldError

_MEMBER_NS = UUID("6f1c2b1e-6b9c-4b53-9a57-3a3d8e0f7d21")


def member_aggregate_id(member_id: str) -> UUID:
    return uuid5(_MEMBER_NS, member_id)


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """One catalog event as stored in the node's eventsourcing log."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime  # recorded_at, the node's clock
    event_id: UUID
    occurred_at: datetime
    schema: int
    body: Event

    def mutate(self, aggregate: Member | None) -> Member | None:
        if isinstance(self.body, MemberRegistered):
            return Member(self.originator_id, self.originator_version, self.body.member_id)
        if aggregate is not None:
            aggregate.apply(self)
        return aggregate


class Member:
    """A member as this node knows them: enough state to refuse impossible transitions."""

    def __init__(self, id: UUID, version: int, member_id: str) -> None:
        self.id = id
        self.version = version
        self.member_id = member_id
        self.status: Status = REGISTERED_STATUS
        self.changes: list[tuple[str, Status]] = []
        """(event id, status after) of each event here that changed the status, as recorded."""

    def apply(self, event: Recorded) -> None:
        """The member after one of their events here; a void of one that changed the status takes
        that change back (a correction keeps the type, so the status stays)."""
        self.version = event.originator_version
        body = event.body
        if isinstance(body, RecordVoided):
            self.changes = [c for c in self.changes if c[0] != body.target_event_id]
        elif (status := STATUS_AFTER.get(type(body))) is not None:
            self.changes.append((str(event.event_id), status))
        self.status = self.changes[-1][1] if self.changes else REGISTERED_STATUS

    def check(self, body: Any) -> None:
        """Refuse a transition this member's history at this node makes impossible."""
        field = "payload.member_id"
        if isinstance(body, MemberRegistered):
            raise FieldError(field, f"member {self.member_id} is already registered at this node")
        if self.status is Status.TRANSFERRED_OUT:
            raise FieldError(field, f"member {self.member_id} was transferred out")
        if isinstance(body, MemberReturned) and self.status is Status.RETURNED:
            raise FieldError(field, f"member {self.member_id} has already returned")
        if isinstance(body, MemberContactLost) and self.status is Status.CONTACT_LOST:
            raise FieldError(field, f"member {self.member_id} is already out of contact")
        if isinstance(body, MemberContactRestored) and self.status is not Status.CONTACT_LOST:
            raise FieldError(field, f"member {self.member_id} has not lost contact")
