"""The clerk's sessions on the page, in memory only, and the limit on failed sign-ins.

A session is a random token (256 bits, `shared.credentials.new_token`) in the cookie
`tongxin_clerk` (HttpOnly, SameSite=Strict, Path=/, Secure over https). The node keeps only its
SHA-256, in this process's memory: nothing of a session is ever written to disk, and restarting
`node serve` ends every session (the clerk signs in again). A session ends after `IDLE_SECONDS`
without a request of the clerk's (the page's status poll, marked `X-Background: 1`, does not
count: an open page left alone still ends), when the clerk signs out, or when the password is set
(its epoch is then old).

The CSRF token is HMAC-SHA256 of the session token under a key made when the process starts: the
node stores nothing more for it, the page can ask for it again after a reload, and another origin
can neither read it nor compute it. Writes with the cookie must send it as `X-CSRF-Token`.

Failed sign-ins are counted for the whole node, not per address (every client of a node bound to
loopback has the same address): after `MAX_FAILURES` within `FAILURE_WINDOW` seconds every attempt
is answered 429 with Retry-After until the oldest failure leaves the window. Someone able to fail
on purpose can keep the clerk out that long; they cannot guess on.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from shared.credentials import new_token, token_digest

COOKIE = "tongxin_clerk"
CSRF_HEADER = "X-CSRF-Token"
BACKGROUND_HEADER = "X-Background"
"""Sent by the page's own polls: such a request does not keep a session from going idle."""
IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 64
"""Sessions kept at most; a new one past it ends the least recently used."""
MAX_FAILURES = 5
FAILURE_WINDOW = 60.0

Clock = Callable[[], float]


@dataclass
class Session:
    epoch: int
    """The clerk's epoch when it began: a password set since ends it."""
    setup: bool
    """Begun with the one-time sign-in token: it may only set the password."""
    seen: float


class Sessions:
    """The open sessions of one `node serve`, by the SHA-256 of their token."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()

    def begin(self, epoch: int, *, setup: bool = False) -> str:
        """A new session's token, for the cookie."""
        token = new_token()
        with self._lock:
            while len(self._open) >= MAX_SESSIONS:
                oldest = min(self._open, key=lambda d: self._open[d].seen)
                del self._open[oldest]
            self._open[token_digest(token)] = Session(epoch=epoch, setup=setup, seen=self._clock())
        return token

    def find(self, token: str, epoch: int, *, touch: bool = True) -> Session | None:
        """The live session of `token`, now seen again unless not `touch` (the page's background
        poll: it keeps no session alive); None when unknown, idle too long or of an older epoch
        (it is ended then)."""
        digest = token_digest(token)
        now = self._clock()
        with self._lock:
            session = self._open.get(digest)
            if session is None:
                return None
            if now - session.seen > IDLE_SECONDS or session.epoch != epoch:
                del self._open[digest]
                return None
            if touch:
                session.seen = now
            return session

    def renew(self, token: str, epoch: int) -> None:
        """After the password was set in this session: it goes on, in the new epoch, in full."""
        with self._lock:
            session = self._open.get(token_digest(token))
            if session is not None:
                session.epoch, session.setup, session.seen = epoch, False, self._clock()

    def end(self, token: str) -> None:
        with self._lock:
            self._open.pop(token_digest(token), None)

    def csrf(self, token: str) -> str:
        """The CSRF token of the session `token`."""
        return hmac.new(self._key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


class Throttle:
    """At most `MAX_FAILURES` failed sign-ins per `FAILURE_WINDOW` seconds, node-wide."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    def retry_after(self) -> int | None:
        """Seconds until an attempt is heard again, or None when it is heard now."""
        now = self._clock()
        with self._lock:
            while self._failures and now - self._failures[0] >= FAILURE_WINDOW:
                self._failures.popleft()
            if len(self._failures) < MAX_FAILURES:
                return None
            return max(1, math.ceil(FAILURE_WINDOW - (now - self._failures[0])))

    def failed(self) -> None:
        with self._lock:
            self._failures.append(self._clock())
