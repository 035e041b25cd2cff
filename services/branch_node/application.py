"""The node's eventsourcing Application on SQLite: load → decide → save, one batch per transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Mapper, Notification

from services.branch_node import corrections
from services.branch_node.domain import Member, Recorded, member_aggregate_id
from services.branch_node.durable_sqlite import DurableSQLiteFactory
from shared.catalog import EventBody, time_errors
from shared.catalog.correction import RecordCorrected, RecordVoided
from shared.catalog.member import MemberRegistered
from shared.errors import FieldError, refuse


@dataclass(frozen=True)
class NewEvent:
    """A catalog event the node is asked to record."""

    body: EventBody
    occurred_at: datetime
    event_id: UUID = field(default_factory=uuid4)


class BatchError(ValueError):
    """Some events of a batch were refused; nothing of the batch was appended."""

    def __init__(self, errors: list[tuple[int, FieldError]]) -> None:
        self.errors = errors
        lines = [f"item {i}: {e}" for i, e in errors[:10]]
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__("; ".join(lines) + more)


COUNTY_FACTS = ("member.erased",)
"""`member.*` events the county office's node records about any member of the county, wherever
they were registered: not part of a member's history at this node."""


def member_of(body: EventBody) -> str | None:
    """The member whose aggregate a `member.*` event belongs to (None for any other event): its
    stored event is that aggregate's next version; any other event is an aggregate of its own."""
    tag = type(body).__struct_config__.tag
    member_id = getattr(body, "member_id", None)
    if not isinstance(tag, str) or not tag.startswith("member.") or tag in COUNTY_FACTS:
        return None
    return member_id if member_id else None


class NodeLog(Application[UUID]):
    """The outstation's log. Its notification ids are the node's gap-free seq numbers."""

    name = "BranchNode"
    """eventsourcing's name for this application, kept from before the class was renamed: it
    prefixes the environment keys eventsourcing reads (`BRANCHNODE_SQLITE_LOCK_TIMEOUT` …), so
    settings an existing deployment gave that way still apply."""

    def __init__(self, log_path: Path) -> None:
        super().__init__(
            env={
                "PERSISTENCE_MODULE": DurableSQLiteFactory.TOPIC,
                "SQLITE_DBNAME": str(log_path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        )
        self.fixes = corrections.CorrectionIndex(self)
        """The log's corrections by the seq they correct (`corrections.check` reads it)."""

    def construct_mapper(self) -> Mapper[UUID]:
        from services.branch_node.mapper import MsgspecMapper

        return MsgspecMapper()

    def append(self, events: Sequence[NewEvent], now: datetime | None = None) -> list[int]:
        """Record every event or none of them, in the given order; returns their seq numbers.

        Raises BatchError naming each refused item and field; the log is then unchanged.
        """
        decided, errors = self._decide_all(events, now or datetime.now(UTC))
        if errors:
            raise BatchError(errors)
        # straight to the event store: save() would re-check each event against a Protocol (slow)
        recordings = self.events.put(decided)
        return [r.notification.id for r in recordings]

    def check(self, events: Sequence[NewEvent], now: datetime | None = None) -> list[tuple[int, FieldError]]:
        """What `append` would refuse of this batch (times, a member's history at this node), by
        item index; appends nothing."""
        return self._decide_all(events, now or datetime.now(UTC))[1]

    def _decide_all(
        self, events: Sequence[NewEvent], now: datetime
    ) -> tuple[list[Recorded], list[tuple[int, FieldError]]]:
        members: dict[UUID, Member] = {}
        fixes: dict[int, list[corrections.Fix]] = {}
        decided: list[Recorded] = []
        errors: list[tuple[int, FieldError]] = []
        for i, new in enumerate(events):
            try:
                decided.append(self._decide(new, now, members, fixes))
            except FieldError as exc:
                errors.append((i, exc))
        return decided, errors

    def _decide(
        self,
        new: NewEvent,
        now: datetime,
        members: dict[UUID, Member],
        fixes: dict[int, list[corrections.Fix]],
    ) -> Recorded:
        refuse(time_errors(new.body, new.occurred_at, now))  # every bad time at once
        body = new.body
        if isinstance(body, RecordCorrected | RecordVoided):
            return self._decide_correction(new, body, now, members, fixes)
        member_id = member_of(new.body)
        if member_id is None:
            return self._recorded(new, now, new.event_id, 1)
        agg_id = member_aggregate_id(member_id)
        member = members.get(agg_id) or self._member(agg_id)
        if member is not None:
            member.check(new.body)
        elif not isinstance(new.body, MemberRegistered):
            raise FieldError("payload.member_id", f"member {member_id} is not registered at this node")
        event = self._recorded(new, now, agg_id, (member.version if member else 0) + 1)
        member = event.mutate(member)
        assert member is not None
        members[agg_id] = member
        return event

    def _decide_correction(
        self,
        new: NewEvent,
        body: RecordCorrected | RecordVoided,
        now: datetime,
        members: dict[UUID, Member],
        fixes: dict[int, list[corrections.Fix]],
    ) -> Recorded:
        """A correction checked against its target (`corrections.check`); one of a member's event
        is that member's next version, so the member's status here follows a void."""
        target = corrections.check(self.fixes, body, new.occurred_at, now, fixes)
        fix = corrections.Fix(0, isinstance(body, RecordVoided), new.occurred_at, body.reason)
        fixes.setdefault(body.target_seq, []).append(fix)
        member_id = member_of(target.body)
        if member_id is None:
            return self._recorded(new, now, new.event_id, 1)
        agg_id = member_aggregate_id(member_id)
        member = members.get(agg_id) or self._member(agg_id)
        if member is None:  # the target is this member's own event here, so the member exists
            raise FieldError("payload.target_seq", f"member {member_id} is not registered at this node")
        event = self._recorded(new, now, agg_id, member.version + 1)
        event.mutate(member)
        members[agg_id] = member
        return event

    @staticmethod
    def _recorded(new: NewEvent, now: datetime, originator_id: UUID, version: int) -> Recorded:
        return Recorded(
            originator_id=originator_id,
            originator_version=version,
            timestamp=now,
            event_id=new.event_id,
            occurred_at=new.occurred_at,
            schema=new.body.SCHEMA,
            body=new.body,  # type: ignore[arg-type]
        )

    def _member(self, agg_id: UUID) -> Member | None:
        try:
            member: Member = self.repository.get(agg_id)
        except AggregateNotFoundError:
            return None
        return member

    def last_seq(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def notifications_after(self, seq: int, limit: int) -> Sequence[Notification]:
        return self.recorder.select_notifications(seq, limit, inclusive_of_start=False)
