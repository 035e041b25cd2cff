"""Events about a branch node itself: its signing key, rotated inside its own chain; its log,
recovered from the county after a restore from a backup."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.bounds import MAX_SEQ, TEXT_PATTERN
from shared.catalog.base import EventBody
from shared.ids import whole

Hex64 = Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{64}$"))]
KeyId = Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f]{16}$"))]


class NodeKeyRotated(EventBody, frozen=True, kw_only=True, tag="node.key_rotated"):
    """The node's last envelope under its old key names the key that signs from the next seq on.

    Signed by the old key and chained like any event, so the key history of a node is as
    tamper-evident as its events: an auditor needs to trust only the key enrolled first.
    """

    new_key_id: KeyId
    new_public_key: Hex64


Seq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SEQ)]
MAX_LISTED = 1000
"""How many collided events a `node.recovered` lists (their range is always given)."""


class Collided(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A local event that had been recorded under a seq the county already held with other content."""

    seq: Seq
    hash: Hex64
    event_id: Annotated[str, msgspec.Meta(pattern=whole(r"^[0-9a-f-]{36}$"))]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=TEXT_PATTERN)]


class NodeRecovered(EventBody, frozen=True, kw_only=True, tag="node.recovered"):
    """The node was restored from a backup older than what the county held, and `tongxin node
    recover` fetched the county's copy of its chain back up to `recovered_to_seq`.

    Events this node had recorded meanwhile under seqs the county held with other content
    (`collided_from_seq`..`collided_to_seq`, the first MAX_LISTED of them listed with their old
    hash and event id) are recorded again right after this event, as new events with new seqs:
    nothing the clerk typed is lost, and the collision stays in the chain for an auditor.
    """

    recovered_to_seq: Seq
    collided_from_seq: Seq | None = None
    collided_to_seq: Seq | None = None
    collided: Annotated[list[Collided], msgspec.Meta(max_length=MAX_LISTED)] = msgspec.field(
        default_factory=list
    )
