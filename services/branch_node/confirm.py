"""The county's receipts as the forwarder follows them: the newest one fetched, a rollback or a
fork noticed (see `services.branch_node.receipts` for how they are kept)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.js.errors import NotFoundError

from services.branch_node.forwarding_state import ForwarderState
from services.branch_node.repair import Repair
from services.branch_node.service import NodeService
from shared import receipt
from shared.wire import RECEIPTS_STREAM, receipts_subject

log = logging.getLogger("tongxin.node.forwarder")

RECEIPT_EVERY = 1.0
"""Seconds between asking for the county's newest receipt while some sent are unconfirmed (and
at the end of a `once` run)."""
RECEIPT_IDLE_EVERY = 10.0
"""Seconds between asking for it when everything sent is confirmed (a county restore or a fork
shows in a receipt that comes without anything being sent)."""


class Confirmations:
    """What the county confirms, as of the newest receipt taken: `confirmed` changes only when a
    receipt is taken (the log only grows while the forwarder runs), so one read per receipt does."""

    def __init__(self, node: NodeService, repair: Repair, state: ForwarderState) -> None:
        self.node = node
        self.repair = repair
        self.state = state
        self.confirmed = 0
        """How far the county holds this node's chain (`Receipts.confirmed`), as of the last take."""

    async def fetch(self, js: Any, sent: int) -> float:
        """Keep the county's newest receipt for this node; returns the seconds until the next ask:
        soon while some of the `sent` are unconfirmed, seldom once all are."""
        msg = await self.probe(js)
        confirmed = await asyncio.to_thread(self.take, None if msg is None else msg.data)
        return RECEIPT_EVERY if confirmed < sent else RECEIPT_IDLE_EVERY

    async def probe(self, js: Any) -> Any:
        """The county's newest receipt for this node, by a direct get (None: none issued yet);
        raises NoRespondersError while the receipts stream does not exist."""
        subject = receipts_subject(self.node.config.county_id, self.node.node_id)
        try:
            return await js.get_last_msg(RECEIPTS_STREAM, subject, direct=True)
        except NotFoundError:
            return None

    def take(self, data: bytes | None) -> int:
        """Accept a receipt (None: only look at the ones kept), note a rollback or a fork; returns
        how far the county confirms. In a worker thread: it reads the log."""
        receipts = self.node.receipts
        before = receipts.last()
        kept = None if data is None else receipts.accept(receipt.decode(data), self.node.node_id)
        if kept is not None:
            self.state.last_receipt_seq = kept.seq
            log.info("receipt", extra={"seq": kept.seq, "verified": kept.verified, "matches": kept.matches})
            if before is not None and kept.seq < before.seq and kept.issued_at > before.issued_at:
                self.repair.rolled_back(before.seq, kept.seq)
        fork = receipts.fork()
        reason = None if fork is None else fork.reason
        if reason != self.state.forked:
            if fork is not None:
                log.error(
                    "forwarding stopped: the county holds a history of this node that its log does not; "
                    "run `tongxin node recover`",
                    extra={"seq": fork.seq, "reason": fork.reason},
                )
            self.state.forked = reason
        self.confirmed = receipts.confirmed()
        return self.confirmed
