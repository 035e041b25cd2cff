"""What the ingest consumer reports about itself, and the one failure no retry helps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ConsumerState:
    connected: bool = False
    consuming: bool = False
    """Connected, streams and consumer checked, pulling: what `GET /ready` asks of the ingest."""
    batches: int = 0
    messages: int = 0
    last_batch_at: float = 0.0
    last_error: str | None = None


class NatsRefusedError(RuntimeError):
    """NATS answered but refused who the county said it was: no retry helps (`ingest --once`)."""
