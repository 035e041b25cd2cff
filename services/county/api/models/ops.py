"""What operators look at: node health, conflicts, quarantine, the projection digest, /health."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from services.county.api.models.base import Model
from services.county.api.models.members import Conflict


class NodeKey(Model):
    key_id: str
    valid_from: str
    valid_to: str | None


class Gap(Model):
    """Seqs missing between the archived head and a held-back envelope."""

    model_config = ConfigDict(populate_by_name=True)
    from_: int = Field(alias="from")
    to: int
    missing: int


class LastReceipt(Model):
    seq: int
    issued_at: str


class Repairing(Model):
    """A gap the county has asked the node to re-send and not received yet."""

    model_config = ConfigDict(populate_by_name=True)
    from_: int = Field(alias="from")
    to: int
    found_at: str
    requested_at: str | None
    requests: int


class NodeHealth(Model):
    """Where a node's chain stands at the county (times UTC)."""

    node_id: str
    name: str | None
    """The name of the organisation the node is (or speaks for); None if none is registered."""
    enrolled_at: str
    note: str | None
    org_ids: list[str]
    """The organisations the node speaks for (docs/authority.md)."""
    office: bool
    """Whether it is the county office's node (the organisation tree, the county's funds)."""
    keys: list[NodeKey]
    last_seq: int
    last_seen: str | None
    last_recorded_at: str | None
    last_heard: str | None
    held: int
    gaps: list[Gap]
    missing: int
    """Seqs missing in the gaps."""
    resend_requests: int
    """Re-send requests the county made to this node so far."""
    repairing: Repairing | None
    quarantined: int
    refused_claims: int
    """Archived events of the node that the projections do not apply: not its to say."""
    max_skew_s: int
    lag_s: int | None
    silent_s: int | None
    last_receipt: LastReceipt | None


class Nodes(Model):
    as_of: str
    """When the county answered (`silent_s` counts up to it)."""
    items: list[NodeHealth]
    unattributed_quarantined: int
    """Open quarantined messages that name no node (unreadable)."""


class ConflictItem(Conflict):
    member_name: str | None
    """The member's name, where the conflict is about a member on the roster."""


class Conflicts(Model):
    total: int
    limit: int
    offset: int
    items: list[ConflictItem]


class QuarantineItem(Model):
    """A refused message, without its raw bytes: their length and a preview."""

    id: int
    received_at: str
    nats_subject: str | None
    node_id: str | None
    seq: int | None
    reason: str
    detail: str
    resolved_at: str | None
    raw_length: int
    preview_hex: str
    preview_text: str


class Quarantine(Model):
    total: int
    limit: int
    offset: int
    items: list[QuarantineItem]


class RefusedClaim(Model):
    """An archived event its node was not entitled to make: kept, chained and acknowledged, not
    projected (docs/authority.md)."""

    node_id: str
    seq: int
    type: str
    subject: str | None
    """The entity it is about (`m:<member>`, `o:<org>`, `c:<candidate>`); None: none."""
    occurred_at: str
    reason: str
    """`not_own_org`, `not_own_member` or `office_only`."""
    detail: str
    received_at: str | None
    hash: str | None


class RefusedClaims(Model):
    total: int
    limit: int
    offset: int
    items: list[RefusedClaim]


class Digest(Model):
    """The digest of the business projections, and each table's row count."""

    digest: str
    computed_at: str
    rows: dict[str, int]


class Readiness(Model):
    """`status` `ready` (200) or `not_ready` (503): the database answers, and the ingest of this
    process is connected to NATS and consuming; `not_ready` names what is not."""

    status: str
    database: str
    nats: str
    ingest: str
    not_ready: list[str]


class Health(Model):
    """`status` `ok` (200) or `unavailable` (503, with why in `database`); `county serve` adds the
    ingest's state."""

    model_config = ConfigDict(extra="allow")
    status: str
    database: str
    nats_connected: bool | None = None
    ingested: int | None = None
    uptime_s: int | None = None
