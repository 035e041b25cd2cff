"""What /api/v1/audit returns: the archive's verification, an entity's history, a replay, the digests."""

from __future__ import annotations

from services.county.api.models.base import Model
from services.county.api.models.ops import Digest


class ChainKey(Model):
    key_id: str
    public_key: str
    from_seq: int


class NodeVerified(Model):
    node_id: str
    checked: int
    head_seq: int
    head_hash: str
    keys: list[ChainKey]
    """The keys the chain designates, the anchor's (normally the first enrolled) first."""
    receipts: int
    faults: int


class Fault(Model):
    node_id: str
    seq: int
    reason: str


class Verified(Model):
    """`ok` only when nothing is wrong; what could not be checked is in `notes`."""

    ok: bool
    checked: int
    nodes: list[NodeVerified]
    faults: list[Fault]
    notes: list[str]


class HistoryItem(Model):
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


class History(Model):
    kind: str
    id: str
    items: list[HistoryItem]


class ReplayedEvents(Model):
    archived: int
    replayed: int


class Replayed(Model):
    """What a replay rebuilt, and its digests."""

    known_at: str | None
    as_of: str | None
    events: ReplayedEvents
    digest: str
    as_of_digest: str | None
    rows: dict[str, int]
    roster: dict[str, int]


class AuditDigest(Digest):
    """The live digest and, with `as_of`, the as-of digest; the roster by status (as of then)."""

    as_of: str | None
    as_of_digest: str | None
    roster: dict[str, int]
