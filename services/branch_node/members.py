"""The members registered at this node, read from its own log, without their personal data in full."""

from __future__ import annotations

import threading

import msgspec

from services.branch_node.application import NodeLog
from services.branch_node.mapper import decode_recorded
from shared.catalog.member import MemberRegistered
from shared.catalog.status import STATUS_AFTER


class MemberSummary(msgspec.Struct, kw_only=True):
    """What a clerk needs to pick a member: the name and the ID number's last four characters."""

    member_id: str
    name: str
    id_tail: str
    home_branch: str
    status: str = "out"


def id_tail(id_number: str) -> str:
    return id_number[-4:]


class MemberIndex:
    """Follows the log from where it last read, so each call reads only what is new."""

    def __init__(self, log: NodeLog, chunk: int = 2000) -> None:
        self.log = log
        self.chunk = chunk
        self._seq = 0
        self._members: dict[str, MemberSummary] = {}
        self._lock = threading.Lock()

    def all(self) -> list[MemberSummary]:
        """Every member registered here, in the order registered."""
        with self._lock:
            while batch := self.log.notifications_after(self._seq, self.chunk):
                for note in batch:
                    self._apply(note.state)
                    self._seq = note.id
            return list(self._members.values())

    def _apply(self, state: bytes) -> None:
        body = decode_recorded(state).body
        if isinstance(body, MemberRegistered):
            self._members[body.member_id] = MemberSummary(
                member_id=body.member_id,
                name=body.personal.name,
                id_tail=id_tail(body.personal.id_number),
                home_branch=body.home_branch,
            )
        elif (status := STATUS_AFTER.get(type(body))) and (
            member := self._members.get(getattr(body, "member_id", ""))
        ):
            member.status = status
