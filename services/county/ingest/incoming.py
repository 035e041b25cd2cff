"""A message as it reached ingest (bytes, NATS subject, arrival time), and what became of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.county.ingest.checks import Pre
from shared import envelope


class Outcome(enum.StrEnum):
    ARCHIVED = "archived"
    DUPLICATE = "duplicate"
    HELD = "held"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Incoming:
    data: bytes
    subject: str
    received_at: str = field(default_factory=lambda: envelope.format_time(datetime.now(UTC)))
    stream_seq: int = 0
    """Its seq in the events stream (0 when it did not come from the stream)."""
    pre: Pre | None = field(default=None, compare=False, repr=False)
    """Its `precheck`, if `Ingestor.prepare` has worked it out ahead."""


def incoming(msgs: list[Any]) -> list[Incoming]:
    """A fetched batch of JetStream messages as `Incoming`s, all stamped with one arrival time
    (they came together)."""
    received_at = envelope.format_time(datetime.now(UTC))
    return [Incoming(m.data, m.subject, received_at, m.metadata.sequence.stream) for m in msgs]
