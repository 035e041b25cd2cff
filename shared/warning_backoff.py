"""Warnings that back off while a dependency stays down: one line at the first failure, then
after 5 s, 10 s, 20 s … (at most every 5 minutes), each saying how many attempts failed since
the last line; and one line when it is back.

The county's ingest (NATS down) and the node's forwarder (the county's NATS out of reach) both
warn through it, so that an outage of hours is a handful of lines, not one every retry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

FIRST_INTERVAL_S = 5.0
MAX_INTERVAL_S = 300.0


class WarningBackoff:
    def __init__(
        self,
        log: logging.Logger,
        what: str,
        clock: Callable[[], float] = time.monotonic,
        *,
        headline: str | None = None,
    ) -> None:
        self.log = log
        self.what = what
        self.headline = headline or f"cannot reach {what}"
        """What each warning starts with (e.g. the node's `forwarding interrupted`)."""
        self.clock = clock
        self.failures = 0
        self._unreported = 0
        self._next_at = 0.0
        self._interval = FIRST_INTERVAL_S

    def failed(self, error: BaseException | str) -> None:
        """One more failed attempt (an exception, or a reason already told); warns only when the
        interval has passed."""
        self.failures += 1
        self._unreported += 1
        now = self.clock()
        if self.failures > 1 and now < self._next_at:
            return
        self.log.warning(
            "%s (%d failed attempt(s) since the last warning; next warning in %.0f s)",
            self.headline,
            self._unreported,
            self._interval,
            extra={"error": error if isinstance(error, str) else repr(error)},
        )
        self._unreported = 0
        self._next_at = now + self._interval
        self._interval = min(self._interval * 2, MAX_INTERVAL_S)

    def succeeded(self) -> None:
        """Reached again: one line if it had failed, and the next failure warns at once."""
        if self.failures:
            self.log.warning("%s reachable again after %d failed attempt(s)", self.what, self.failures)
        self.failures = 0
        self._unreported = 0
        self._interval = FIRST_INTERVAL_S
