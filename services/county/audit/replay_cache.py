"""Scratch databases of replays kept per point in time (`known_at`, `as_of`) for the query API."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from services.county.audit.replay import Bounds, Scratch, build
from shared.envelope import format_time

SETTLE = timedelta(minutes=1)
"""A `known_at` older than this is settled (nothing more can arrive stamped before it): cacheable."""


def settled(known_at: str, now: datetime | None = None) -> bool:
    return known_at <= format_time((now or datetime.now(UTC)) - SETTLE)


def is_past(known_at: str) -> bool:
    """Whether `known_at` is before now (at or after now, the live projections are the answer)."""
    return known_at < format_time(datetime.now(UTC))


class ReplayCache:
    """Scratch databases per (source, known_at, as_of), least recently used evicted first.

    Only settled `known_at` replays are kept (later arrivals cannot change them); others are
    built for one use. A scratch in use when evicted is removed when its last user is done."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, Bounds], Scratch] = OrderedDict()

    @contextmanager
    def use(self, source: Engine, bounds: Bounds) -> Iterator[Scratch]:
        key = (source.url.render_as_string(hide_password=False), bounds)
        keep = bounds.known_at is not None and settled(bounds.known_at)
        with self._lock:  # one replay at a time: they are heavy, and a second request waits for the first
            scratch = self._items.get(key) if keep else None
            if scratch is None:
                scratch = build(source, bounds)
                if keep:
                    self._items[key] = scratch
                    self._evict()
            else:
                self._items.move_to_end(key)
            scratch.users += 1
        try:
            yield scratch
        finally:
            with self._lock:
                scratch.users -= 1
                if scratch.users == 0 and (scratch.evicted or not keep):
                    scratch.close()

    def _evict(self) -> None:
        while len(self._items) > self.size:
            _, old = self._items.popitem(last=False)
            old.evicted = True
            if old.users == 0:
                old.close()

    def close(self) -> None:
        """Remove every cached scratch database (app shutdown)."""
        with self._lock:
            while self._items:
                _, old = self._items.popitem(last=False)
                old.evicted = True
                if old.users == 0:
                    old.close()

    def __len__(self) -> int:
        return len(self._items)
