"""What the forwarder keeps in memory: its backoff between attempts, and its counters for status."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Backoff:
    """Exponential backoff with full jitter: sleep a random time up to base·2^attempt, capped."""

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return delay

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class ForwarderState:
    connected: bool = False
    last_error: str | None = None
    published: int = 0
    acked: int = 0
    failures: int = 0
    last_ack_at: datetime | None = None
    last_receipt_seq: int = 0
    resent: int = 0
    """Envelopes published again by repair (the county had not confirmed them, or asked)."""
    repairs: int = 0
    """Repair incidents: each stretch of unconfirmed envelopes re-sent, or a range the county asked for."""
    requests: int = 0
    """Re-send requests received from the county."""
    forked: str | None = None
    """Why forwarding stopped (the county holds a history this log does not), until `node recover`."""
    started_at: float = field(default_factory=time.monotonic)
