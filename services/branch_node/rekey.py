"""`tongxin node rekey`: a new signing key from a seq on, after the county revoked this node's keys.

When a node's key leaks, the county revokes the node's keys from the first seq the leak may have
signed (`tongxin county revoke-key`): from there the county accepts nothing signed by them, and
it took what it had archived from there out of the chain. The node then takes a new key from
that seq on and signs its own envelopes from there again with it — the same events, the same
hashes and links (an envelope's hash does not cover its key), a new signature — and forwards them
again; the county, which re-enrolled the node with the new key from that seq (`tongxin county
enrol-node NODE KEY --from-seq N`), accepts them in place of whatever the leaked key had put there.
The rekey is kept in log.db (`rekeys`), so the node's own verification and `recover` follow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.branch_node.service import NodeService
from shared.errors import FieldError
from shared.signing import Signer


@dataclass(frozen=True)
class Rekeyed:
    key: Signer
    from_seq: int
    resigned: int
    """Envelopes signed again with the new key (those from `from_seq` on that were signed)."""


def rekey(node: NodeService, from_seq: int) -> Rekeyed:
    """Give the node a new key from `from_seq` on and sign its envelopes from there again."""
    if from_seq < 1:
        raise FieldError("from_seq", "must be 1 or more")
    last = node.log.last_seq()
    if from_seq > last + 1:
        raise FieldError(
            "from_seq",
            f"this node's log ends at seq {last}: a rekey takes effect at seq {last + 1} at the latest",
        )
    with node.append_lock:
        node.sign_pending()
        new = node.dir.add_key()
        made_at = datetime.now(UTC).isoformat()
        with node.envelopes.write() as conn:
            resigned = conn.execute("SELECT count(*) FROM seals WHERE seq >= ?", (from_seq,)).fetchone()[0]
            conn.execute("DELETE FROM rekeys WHERE from_seq >= ?", (from_seq,))
            conn.execute("INSERT INTO rekeys VALUES (?, ?, ?)", (from_seq, new.key_id, made_at))
            conn.execute("DELETE FROM seals WHERE seq >= ?", (from_seq,))
            conn.execute("UPDATE forwarding SET forwarded_seq = min(forwarded_seq, ?)", (from_seq - 1,))
        node.sign_pending()
    return Rekeyed(new, from_seq, int(resigned))
