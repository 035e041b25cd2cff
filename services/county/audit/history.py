"""An entity's history from the archive: every event about a member or an organisation in
business order (occurred_at, node, seq), with its origin and whether a county receipt covers it."""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, func, or_, select

from services.county.db import tables as t
from services.county.projections.fact import CANDIDATE, MEMBER, ORG, entity_key
from shared.errors import FieldError
from shared.ids import MEMBER_ID_PATTERN, SLUG_PATTERN


class Kind(enum.StrEnum):
    MEMBER = "member"
    ORG = "org"


_ID = {Kind.MEMBER: re.compile(MEMBER_ID_PATTERN), Kind.ORG: re.compile(SLUG_PATTERN)}
_ID_FORM = {Kind.MEMBER: "32 lowercase hex digits", Kind.ORG: "a slug such as dongguan"}
ATTENDANCE = ("orglife.held", "training.held")
"""Events that name members in `attendees` rather than in their subject."""
ORG_FIELDS = ("org_id", "parent_id", "outstation", "host_org")
"""Payload fields that name an organisation; an event with one is about that organisation too."""


@dataclass(frozen=True)
class HistoryItem:
    node_id: str
    seq: int
    type: str
    hash: str
    occurred_at: str
    recorded_at: str
    received_at: str
    receipted: bool
    """A county receipt covers it: one for its node with a seq at or above its own."""
    via: str
    """Why it is listed: `subject`, `candidate`, `attendees` or the payload field naming the org."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_id(kind: Kind, entity_id: str) -> None:
    if not _ID[kind].match(entity_id):
        raise FieldError(f"{kind.value}_id", f"must be {_ID_FORM[kind]}, not {entity_id!r}")


def history(conn: Connection, kind: Kind, entity_id: str) -> list[HistoryItem]:
    """Every archived event about the member (its own, as candidate, as attendee) or the
    organisation (its own, and every event whose payload names it), in business order."""
    check_id(kind, entity_id)
    a = t.archive.c
    if kind is Kind.MEMBER:
        subjects = {entity_key(MEMBER, entity_id): "subject", entity_key(CANDIDATE, entity_id): "candidate"}
    else:
        subjects = {entity_key(ORG, entity_id): "subject"}
    found: dict[tuple[str, int], tuple[Any, str]] = {}
    for row in conn.execute(_columns().where(a.subject.in_(subjects))):
        found[(row.node_id, row.seq)] = (row, subjects[row.subject])
    for row, via in _mentions(conn, kind, entity_id, list(subjects)):
        found.setdefault((row.node_id, row.seq), (row, via))
    heads = dict(
        conn.execute(
            select(t.receipts.c.node_id, func.max(t.receipts.c.seq)).group_by(t.receipts.c.node_id)
        ).all()
    )
    items = [
        HistoryItem(
            node_id=row.node_id,
            seq=row.seq,
            type=row.type,
            hash=row.hash,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            received_at=row.received_at,
            receipted=row.seq <= heads.get(row.node_id, 0),
            via=via,
        )
        for row, via in found.values()
    ]
    return sorted(items, key=lambda i: (i.occurred_at, i.node_id, i.seq))


def _columns() -> Any:
    a = t.archive.c
    return select(
        a.node_id, a.seq, a.type, a.hash, a.occurred_at, a.recorded_at, a.received_at, a.subject, a.envelope
    )


def _mentions(conn: Connection, kind: Kind, entity_id: str, subjects: list[str]) -> list[tuple[Any, str]]:
    """Events that name the entity inside their payload: found by text in the canonical JSON,
    then confirmed on the decoded payload."""
    a = t.archive.c
    query = _columns().where(or_(a.subject.is_(None), a.subject.not_in(subjects)))
    if kind is Kind.MEMBER:
        query = query.where(a.type.in_(ATTENDANCE), a.envelope.contains(f'"{entity_id}"', autoescape=True))
    else:
        named = [a.envelope.contains(f'"{field}":"{entity_id}"', autoescape=True) for field in ORG_FIELDS]
        query = query.where(or_(*named))
    found: list[tuple[Any, str]] = []
    for row in conn.execute(query):
        payload = msgspec.json.decode(row.envelope).get("payload", {})
        if kind is Kind.MEMBER and entity_id in (payload.get("attendees") or ()):
            found.append((row, "attendees"))
        elif kind is Kind.ORG and (fields := [f for f in ORG_FIELDS if payload.get(f) == entity_id]):
            found.append((row, fields[0]))
    return found
