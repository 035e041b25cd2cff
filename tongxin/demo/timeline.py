"""Collecting simulated events per node, with random times and exact splits of totals."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from shared.catalog.base import CHINA_STANDARD_TIME

Item = dict[str, Any]
"""One event as a node's HTTP API takes it: {type, occurred_at, payload}."""


class Timeline:
    """Events per node; `items()` gives each node's events in the order they happened."""

    def __init__(self, rng: random.Random, start: date, end: date) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self._events: dict[str, list[tuple[datetime, int, Item]]] = defaultdict(list)
        self._n = 0

    def add(self, node: str, type_: str, when: datetime, payload: dict[str, Any]) -> None:
        """Record at `node`; what would happen after the end of the history has not happened yet."""
        if when.date() > self.end:
            return
        item = {"type": type_, "occurred_at": when.isoformat(), "payload": payload}
        self._events[node].append((when, self._n, item))
        self._n += 1

    def items(self) -> dict[str, list[Item]]:
        return {
            node: [item for *_, item in sorted(evs, key=lambda e: e[:2])]
            for node, evs in self._events.items()
        }

    def moment(self, first: date | None = None, last: date | None = None) -> datetime:
        """A random office-hours time between two days (default: the whole history)."""
        first = max(first or self.start, self.start)
        last = min(last or self.end, self.end)
        days = max((last - first).days, 0)
        day = first + timedelta(days=self.rng.randint(0, days))
        return at(day, self.rng.randint(9 * 60, 17 * 60 + 59))

    def split(self, total: int, parts: int, minimum: int = 1) -> list[int]:
        """`parts` random integers, each at least `minimum`, summing exactly to `total`."""
        if parts * minimum > total:
            raise ValueError(f"cannot split {total} into {parts} parts of at least {minimum}")
        weights = [self.rng.random() + 0.2 for _ in range(parts)]
        spare = total - parts * minimum
        shares = [minimum + int(spare * w / sum(weights)) for w in weights]
        for i in range(total - sum(shares)):
            shares[i % parts] += 1
        return shares


def at(day: date, minute_of_day: int) -> datetime:
    return datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), CHINA_STANDARD_TIME)


def months(first: date, last: date) -> list[date]:
    """The 15th of every month from `first`'s month to `last` (inclusive when the 15th is reached)."""
    out: list[date] = []
    year, month = first.year, first.month
    while True:
        day = date(year, month, 15)
        if day > last:
            return out
        if day >= first:
            out.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
