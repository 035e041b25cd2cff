"""The members registered at this node, read from its own log and opened with its own key store,
offline, without their personal data in full."""

from __future__ import annotations

import threading

import msgspec

from services.branch_node.application import NodeLog
from services.branch_node.keystore import KeyStore
from services.branch_node.mapper import decode_recorded
from shared.catalog.base import Personal
from shared.catalog.correction import RecordCorrected, RecordVoided
from shared.catalog.member import MemberDetailsUpdated, MemberRegistered
from shared.catalog.status import STATUS_AFTER
from shared.personal import ERASED


class MemberSummary(msgspec.Struct, kw_only=True):
    """What a clerk needs to pick a member: the name and the ID number's last four characters
    (both `shared.personal.ERASED` once the member's key is destroyed)."""

    member_id: str
    name: str
    id_tail: str
    home_branch: str
    status: str = "out"


def id_tail(id_number: str) -> str:
    return id_number[-4:]


class _Member:
    def __init__(self, member_id: str, personal: Personal, home_branch: str) -> None:
        self.member_id, self.personal, self.home_branch = member_id, personal, home_branch
        self.changes: list[tuple[str, str]] = []
        """(event id, status after) of the events here that changed the status (a void takes one back)."""

    @property
    def status(self) -> str:
        return self.changes[-1][1] if self.changes else "out"


class MemberIndex:
    """Follows the log from where it last read, so each call reads only what is new; each
    member's personal data is opened with the key store on every call, so a destroyed key shows
    at once."""

    def __init__(self, log: NodeLog, keys: KeyStore, chunk: int = 2000) -> None:
        self.log = log
        self.keys = keys
        self.chunk = chunk
        self._seq = 0
        self._members: dict[str, _Member] = {}
        self._lock = threading.Lock()

    def all(self) -> list[MemberSummary]:
        """Every member registered here, in the order registered."""
        with self._lock:
            while batch := self.log.notifications_after(self._seq, self.chunk):
                for note in batch:
                    self._apply(note.state)
                    self._seq = note.id
            return [self._summary(m) for m in self._members.values()]

    def _summary(self, member: _Member) -> MemberSummary:
        opened = self.keys.open(member.member_id, member.personal)
        name = ERASED if opened is None or opened.name is None else opened.name
        tail = ERASED if opened is None or opened.id_number is None else id_tail(opened.id_number)
        return MemberSummary(
            member_id=member.member_id,
            name=name,
            id_tail=tail,
            home_branch=member.home_branch,
            status=member.status,
        )

    def _apply(self, state: bytes) -> None:
        recorded = decode_recorded(state)
        body = recorded.body
        if isinstance(body, RecordCorrected) and isinstance(body.replacement, MemberRegistered):
            if member := self._members.get(body.replacement.member_id):
                member.home_branch = body.replacement.home_branch
        elif isinstance(body, RecordVoided):
            for member in self._members.values():  # voids are rare; a member's changes are few
                member.changes = [c for c in member.changes if c[0] != body.target_event_id]
        elif isinstance(body, MemberRegistered):
            self._members[body.member_id] = _Member(body.member_id, body.personal, body.home_branch)
        elif isinstance(body, MemberDetailsUpdated):
            if body.personal is not None and (member := self._members.get(body.member_id)):
                member.personal = body.personal
        elif (status := STATUS_AFTER.get(type(body))) and (
            member := self._members.get(getattr(body, "member_id", ""))
        ):
            member.changes.append((str(recorded.event_id), status.value))
