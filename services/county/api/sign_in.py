"""Sign-in attempts, counted: after `MAX_FAILURES` failures within `WINDOW` for one username or one
client address, that username or address waits (429) until the window has passed.

Per process, in memory: a restart forgets the counts (the attacker gains one window per restart
of the service, which an operator sees in the log); several county processes each count their own.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_FAILURES = 5
WINDOW = 60.0
MAX_TRACKED = 10_000
"""Keys remembered at most (the oldest are forgotten first): the counter's memory is bounded."""


class SignInLimiter:
    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW) -> None:
        self.max_failures, self.window = max_failures, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds until any of `keys` may try again (0: now)."""
        now = time.monotonic()
        longest = 0.0
        with self._lock:
            for key in keys:
                seen = self._failures.get(key)
                while seen and seen[0] <= now - self.window:
                    seen.popleft()
                if seen and len(seen) >= self.max_failures:
                    longest = max(longest, seen[0] + self.window - now)
        return longest

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=self.max_failures)).append(now)
            while len(self._failures) > MAX_TRACKED:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)
