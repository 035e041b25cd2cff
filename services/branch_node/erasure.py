"""Erasure at the node: the county's `ErasureNotice` (shared.personal) destroys this node's keys
of the members it names (crypto-shredding) and marks them erased in the key store, so that their
personal data is never sealed here again. The county sends a notice when it ingests a
`member.erased` and again every few minutes, so a node offline meanwhile learns when it is back.

A notice counts only when signed by a county key this node trusts, just now, for this node: a
node without a county key refuses every notice (an unsigned one could destroy keys).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.branch_node.keystore import KeyStore
from shared.errors import FieldError
from shared.personal import ErasureNotice, decode_notice
from shared.signing import Verifier

log = logging.getLogger("tongxin.node.erasure")


def as_notice(data: bytes) -> ErasureNotice | None:
    """The message as an erasure notice; None if it is something else (a re-send request)."""
    try:
        return decode_notice(data)
    except FieldError:
        return None


class Erasures:
    def __init__(
        self, node_id: str, county_id: str, county_keys: Callable[[], list[Verifier]], keys: KeyStore
    ) -> None:
        self.node_id, self.county_id = node_id, county_id
        self.county_keys = county_keys
        self.keys = keys
        self.notices = 0
        """Notices taken (signed, fresh, for this node)."""

    def take(self, notice: ErasureNotice) -> bool:
        """Destroy the keys of the members the notice names; False (and a warning) if refused."""
        if (notice.county_id, notice.node_id) != (self.county_id, self.node_id):
            log.warning("an erasure notice for another node was refused", extra={"node_id": notice.node_id})
            return False
        keys = self.county_keys()
        if not keys:
            log.warning("an erasure notice was refused: this node has no county key to check it with")
            return False
        if not (any(notice.signed_by(k) for k in keys) and notice.fresh()):
            log.warning("an erasure notice not signed by the county just now was refused")
            return False
        fresh = [m for m in notice.erased if not self.keys.is_erased(m)]
        destroyed = self.keys.erase(fresh)
        self.notices += 1
        if fresh:
            log.warning(
                "members erased by the county: their keys are destroyed here",
                extra={"members": len(fresh), "keys_destroyed": destroyed},
            )
        return True
