"""Corrections at the node: its log's corrections by target, and the checks before one is recorded.

The node holds every event a correction of its can name, so it refuses here, naming the field,
what the county would refuse (docs/authority.md §6, `services/county/authority/corrections.py`):
a target not in this log, named with another event id or type, of a type that cannot be
corrected or voided, voided already, a correction dated before the record it supersedes, a
replacement about another member, organisation or candidate, or with other personal data than
the target's. (Whether the replacement is the node's to say is the county's rule, as for any event.)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from eventsourcing.persistence import Notification

from services.branch_node.domain import Recorded
from services.branch_node.mapper import decode_recorded
from shared.catalog import check_times
from shared.catalog.correction import CORRECTABLE, VOIDABLE, RecordCorrected, RecordVoided, subject_field
from shared.errors import FieldError

Correction = RecordCorrected | RecordVoided


class Log(Protocol):
    def notifications_after(self, seq: int, limit: int) -> Sequence[Notification]: ...

    def last_seq(self) -> int: ...


@dataclass(frozen=True)
class Fix:
    """A correction of an event here: its seq, whether it voids, when, and why."""

    seq: int
    voids: bool
    occurred_at: datetime
    reason: str


class CorrectionIndex:
    """Follows the log from where it last read: for each event corrected or voided, its
    corrections in seq order (the node's own corrections are checked as the county checks
    them, so every one here stands)."""

    def __init__(self, log: Log, chunk: int = 2000) -> None:
        self.log = log
        self.chunk = chunk
        self._seq = 0
        self._fixes: dict[int, list[Fix]] = {}
        self._lock = threading.Lock()

    def fixes(self) -> dict[int, list[Fix]]:
        """Every corrected or voided seq of the log, with its corrections (a copy)."""
        with self._lock:
            while batch := self.log.notifications_after(self._seq, self.chunk):
                for note in batch:
                    body = decode_recorded(note.state).body
                    if isinstance(body, Correction):
                        fix = Fix(note.id, isinstance(body, RecordVoided), _occurred(note), body.reason)
                        self._fixes.setdefault(body.target_seq, []).append(fix)
                    self._seq = note.id
            return {seq: list(found) for seq, found in self._fixes.items()}

    def target(self, seq: int) -> Recorded | None:
        """The event `seq` of the log, or None."""
        found = self.log.notifications_after(seq - 1, 1) if seq >= 1 else []
        return decode_recorded(found[0].state) if found and found[0].id == seq else None


def _occurred(note: Notification) -> datetime:
    return decode_recorded(note.state).occurred_at


def check(
    index: CorrectionIndex,
    body: Correction,
    occurred_at: datetime,
    now: datetime,
    pending: dict[int, list[Fix]],
) -> Recorded:
    """The target of a correction about to be recorded, or a FieldError saying why it may not be;
    `pending`: corrections decided earlier in the same batch, by target seq."""
    target = index.target(body.target_seq)
    if target is None:
        raise FieldError("payload.target_seq", f"this node has no event {body.target_seq}")
    tag = str(type(target.body).__struct_config__.tag)
    if str(target.event_id) != body.target_event_id:
        raise FieldError(
            "payload.target_event_id",
            f"event {body.target_seq} here is {target.event_id}, not {body.target_event_id}",
        )
    allowed = CORRECTABLE if isinstance(body, RecordCorrected) else VOIDABLE
    if tag not in allowed:
        verb = "corrected" if isinstance(body, RecordCorrected) else "voided"
        raise FieldError("payload.target_seq", f"a {tag} cannot be {verb}")
    if tag != body.target_type:
        where = "payload.replacement.type" if isinstance(body, RecordCorrected) else "payload.target_type"
        raise FieldError(where, f"event {body.target_seq} is a {tag}, not a {body.target_type}")
    fixes = index.fixes().get(body.target_seq, []) + pending.get(body.target_seq, [])
    if any(f.voids for f in fixes):
        voided = next(f for f in fixes if f.voids)
        raise FieldError(
            "payload.target_seq", f"event {body.target_seq} was voided (seq {voided.seq}); a void is final"
        )
    since = max([target.occurred_at, *(f.occurred_at for f in fixes)])
    if occurred_at < since:
        raise FieldError(
            "occurred_at", f"{occurred_at.isoformat()} is before the record it corrects ({since.isoformat()})"
        )
    if isinstance(body, RecordCorrected):
        _check_replacement(body, target, tag, now)
    return target


def _check_replacement(body: RecordCorrected, target: Recorded, tag: str, now: datetime) -> None:
    new = body.replacement
    name = subject_field(tag)
    if name is not None and getattr(new, name) != getattr(target.body, name):
        raise FieldError(
            f"payload.replacement.{name}",
            f"must stay {getattr(target.body, name)}, whom event {body.target_seq} is about; "
            "void it and record the event anew",
        )
    if getattr(new, "personal", None) != getattr(target.body, "personal", None):
        raise FieldError(
            "payload.replacement.personal",
            "must be the target's as recorded; a name, ID number or phone changes through "
            "member.details_updated",
        )
    try:
        check_times(new, target.occurred_at, now)  # its past dates, against the target's time
    except FieldError as exc:
        raise FieldError(exc.field.replace("payload.", "payload.replacement.", 1), exc.message) from None
