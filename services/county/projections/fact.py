"""An archived event as projections see it (a Fact), business order, and entity keys.

An entity key names what an event is about: `m:<member_id>`, `o:<org_id>`, `c:<candidate_id>`
(the archive's and the conflicts' `subject` column holds it; which event types are about which
kind of entity is the registry's to say, `registry.entity_of`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from shared.catalog import EventBody, event_class
from shared.catalog.base import CHINA_STANDARD_TIME

MEMBER, ORG, CANDIDATE = "m", "o", "c"
"""The kinds of entity an event can be about."""


def entity_key(kind: str, entity_id: str) -> str:
    return f"{kind}:{entity_id}"


def split_entity(key: str) -> tuple[str, str]:
    """(kind, id) of an entity key."""
    kind, _, entity_id = key.partition(":")
    return kind, entity_id


@dataclass(frozen=True)
class Fact:
    """One archived event: where it came from, when it happened, what it says."""

    node_id: str
    seq: int
    occurred_at: str
    type: str
    body: EventBody
    event_id: str = ""
    """The envelope's event id (a correction names its target by seq and event id)."""

    @property
    def order(self) -> tuple[str, str, int]:
        """Business order (DESIGN §3.4): by occurred_at, then node, then seq; never by arrival."""
        return (self.occurred_at, self.node_id, self.seq)

    @property
    def ref(self) -> str:
        return f"{self.node_id}:{self.seq}"

    @property
    def china_date(self) -> str:
        return datetime.fromisoformat(self.occurred_at).astimezone(CHINA_STANDARD_TIME).date().isoformat()


def fact_from_archive(node_id: str, seq: int, type_: str, occurred_at: str, text: str) -> Fact:
    """An archived event as a Fact. The archive holds only envelopes that verified when they
    arrived, so the payload is decoded straight from the stored text, in one pass, with the
    catalog's own types (and their checks); the envelope's other fields are skipped."""
    stored = _stored(type_).decode(text)
    return Fact(node_id, seq, occurred_at, type_, stored.payload, stored.event_id)


@functools.cache
def _stored(type_: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(
        msgspec.defstruct(f"Stored_{type_}", [("payload", event_class(type_)), ("event_id", str)])
    )
