"""The county's receipts as a test issues them: signed by a county key, for a node's own hash at a
seq (what an honest county would say) or for another (a county holding another history)."""

from __future__ import annotations

import itertools

from services.branch_node.service import NodeService
from shared import envelope, receipt
from shared.signing import Signer

COUNTY_KEY = Signer.from_seed_hex("c1" * 32)
_issued = itertools.count(1)


def county_receipt(
    node: NodeService, seq: int, *, hash: str | None = None, key: Signer = COUNTY_KEY
) -> receipt.Receipt:
    """A receipt for `node` at `seq`: its own hash there unless `hash` is given; each one issued
    after the one before, so the newest issued is the last one made."""
    if hash is None:
        ((_, data),) = node.envelopes.after(seq - 1, 1)
        hash = envelope.decode(data).hash
    n = next(_issued)
    return receipt.issue(
        key,
        county_id=node.config.county_id,
        node_id=node.node_id,
        seq=seq,
        hash=hash,
        received_at="2026-03-01T00:00:00.000000Z",
        issued_at=f"2026-03-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000000Z",
    )


def accept(node: NodeService, seq: int, *, hash: str | None = None) -> None:
    """Have `node` keep the county's receipt at `seq`, as its forwarder would on fetching it."""
    assert node.receipts.accept(county_receipt(node, seq, hash=hash), node.node_id) is not None
