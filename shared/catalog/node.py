"""Events about a branch node itself: its signing key, rotated inside its own chain."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.catalog.base import EventBody

Hex64 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]


class NodeKeyRotated(EventBody, frozen=True, kw_only=True, tag="node.key_rotated"):
    """The node's last envelope under its old key names the key that signs from the next seq on.

    Signed by the old key and chained like any event, so the key history of a node is as
    tamper-evident as its events: an auditor needs to trust only the key enrolled first.
    """

    new_key_id: KeyId
    new_public_key: Hex64
