"""Receipt-driven repair at the node (DESIGN §3.2): re-send what the county does not confirm.

The county's newest receipt says how far it holds this node's chain. Envelopes JetStream
acknowledged but the county does not confirm were lost on the way (a purge, a loss inside
JetStream, another client taking them off the county's consumer) or are still queued there. When
the confirmed seq has not moved for `grace` seconds while some are unconfirmed, they are sent
again — under Msg-Ids of their own, since JetStream's duplicate window outlives a purge — and
again after twice as long while it stays so, up to `MAX_DELAY`. The county also asks for the
gaps it holds (a signed `ResendRequest`), and announces its real heads when it starts: a newer
receipt that is lower than the one before (the county restored from a backup) is re-sent from
at once. One warning per incident, one line when it is over; nothing repeats every second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared import repair
from shared.errors import FieldError
from shared.signing import Verifier

CountyKeys = Callable[[], list[Verifier]]
"""The county keys the node trusts now (`CountyTrust.verifiers`)."""

log = logging.getLogger("tongxin.node.repair")

MAX_DELAY = 1800.0
"""The longest wait between two re-sends of one stretch of unconfirmed envelopes (seconds)."""


@dataclass
class Counters:
    resent: int = 0
    repairs: int = 0
    requests: int = 0


class Repair:
    """Decides what to re-send; the forwarder publishes it (`due`) and reports back (`resent`)."""

    def __init__(
        self, node_id: str, county_id: str, county_key: Verifier | CountyKeys | None, grace: float
    ) -> None:
        self.node_id = node_id
        self.county_id = county_id
        self.county_keys: CountyKeys = (
            county_key if callable(county_key) else (lambda: [] if county_key is None else [county_key])
        )
        self.grace = grace
        self.counters = Counters()
        self.asked: tuple[int, int] | None = None
        """A range the county asked for or a rollback calls for, not yet re-sent."""
        self._since: float | None = None
        self._confirmed = -1
        self._delay = grace
        self._incident = False

    def reset_clock(self, now: float) -> None:
        """Start the grace period again (after a reconnect: time offline does not count)."""
        self._since = now

    def request(self, data: bytes) -> bool:
        """Take a re-send request from the county; False (and a warning) if it is refused."""
        try:
            req = repair.decode_request(data)
        except FieldError as exc:
            log.warning("a re-send request was refused", extra={"error": str(exc)})
            return False
        if (req.county_id, req.node_id) != (self.county_id, self.node_id):
            log.warning("a re-send request for another node was refused", extra={"node_id": req.node_id})
            return False
        keys = self.county_keys()
        if keys and not (any(req.signed_by(k) for k in keys) and req.fresh()):
            log.warning("a re-send request not signed by the county just now was refused")
            return False
        self.counters.requests += 1
        self._ask(req.from_seq, req.to_seq, "the county asked for a gap in its copy of this chain")
        return True

    def rolled_back(self, before: int, after: int) -> None:
        """The county's newest receipt is lower than the one before: it lost what lies between."""
        self._ask(after + 1, before, "the county's receipts went back (its database restored?)")

    def _ask(self, first: int, last: int, why: str) -> None:
        if self.asked is not None and self.asked == (first, last):
            return
        log.warning(why + ": re-sending", extra={"from_seq": first, "to_seq": last})
        if self.asked is not None:
            first, last = min(first, self.asked[0]), max(last, self.asked[1])
        self.asked = (first, last)

    def due(self, now: float, confirmed: int, sent: int) -> tuple[int, int] | None:
        """The range to re-send now, if any: one asked for, or a stretch unconfirmed too long."""
        if self.asked is not None:
            first, last = self.asked[0], min(self.asked[1], sent)
            self.asked = None
            if first <= last:
                self.counters.repairs += 1
                return first, last
        if confirmed >= sent:
            if self._incident:
                log.info("the county confirms everything sent: repaired", extra={"confirmed_seq": confirmed})
            self._since, self._confirmed, self._delay, self._incident = None, confirmed, self.grace, False
            return None
        if self._since is None or confirmed != self._confirmed:
            self._since, self._confirmed = now, confirmed
            return None
        if now - self._since < self._delay:
            return None
        if not self._incident:
            log.warning(
                "the county has not confirmed what JetStream acknowledged: re-sending",
                extra={"from_seq": confirmed + 1, "to_seq": sent, "waited_s": round(now - self._since)},
            )
            self._incident = True
        self.counters.repairs += 1
        self._since, self._delay = now, min(self._delay * 2, MAX_DELAY)
        return confirmed + 1, sent
