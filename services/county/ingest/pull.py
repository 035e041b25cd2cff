"""A JetStream pull consumer's own receive loop: one inbox subscription, pull requests in flight.

nats-py's `fetch()` spends several event-loop turns on every message (a `wait_for` and a task
each; BASELINE.md measures it at a quarter of what the server delivers). Here pull requests go
straight to `$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`, each with its own reply subject under
one wildcard inbox subscription, and up to `in_flight` of them are kept open so that the server
has somewhere to put the next messages while a batch commits.

What the server sends is told apart by its reply subject, never by a header: a delivery from the
stream always carries a `$JS.ACK.…` reply (it is how it is acked); a status the server sends about
a request carries none, no data, and its status line (`NATS/1.0 408 Request Timeout`, which
nats-py reads into the `Status` header). A publisher can put any header on a message, `Status:
409` included, and the stream delivers it with its headers — but always with an ack reply, so
it is a delivery like any other and goes to ingest (which archives or quarantines it). A status:
408 (expired) and 404 end the request, 100 is a heartbeat, any other fails the puller. A delivery
carries the stream's subject, so it counts against the oldest open request (the server fills one
client's requests in order); anything else on the inbox (neither kind) is ignored.

Each request asks for no more than there is room for (`limit` delivered but not yet taken), so
nothing piles up beyond what the caller agreed to hold.
Messages are the library's own `Msg` objects: `ack()` and `metadata` work as with `fetch()`.

Nothing here acknowledges anything: the caller acks after its commit, and whatever it never acks
JetStream redelivers after the consumer's ack wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import Header

log = logging.getLogger("tongxin.county.ingest")

ACK_PREFIX = "$JS.ACK."
"""The reply subject of every delivery from a stream (with or without a JetStream domain)."""

CONTROL = "100"
"""Idle heartbeat or flow control: not the end of a request."""

ENDED = {"404", "408"}
"""No messages, or the request expired: ask again. Any other status (409 consumer deleted,
leadership change or a limit; 503 no responders) would only come again, so the puller fails and
its owner reconnects."""


class PullError(RuntimeError):
    pass


@dataclass
class _Request:
    size: int
    expires_at: float
    delivered: int = 0


class Puller:
    """Pulls from a durable consumer into a buffer; `take` hands out what arrived."""

    def __init__(
        self,
        nc: Any,
        stream: str,
        durable: str,
        *,
        batch: int = 1000,
        in_flight: int = 2,
        expires: float = 1.0,
        prefix: str = "$JS.API",
    ) -> None:
        self.nc = nc
        self.batch = batch
        self.in_flight = in_flight
        self.expires = expires
        self.limit = batch * (in_flight + 1)
        self._next = f"{prefix}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = nc.new_inbox()
        self._requests: dict[str, _Request] = {}
        self._counter = 0
        self._buffer: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._sub: Any = None
        self._failed: str | None = None

    @property
    def buffered(self) -> int:
        """Delivered and not yet taken."""
        return len(self._buffer)

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(f"{self._inbox}.*", cb=self._on_msg)
        await self._refill()

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def take(self, timeout: float) -> list[Msg]:
        """Up to `batch` messages: those already here, or the first to arrive within `timeout`
        (an empty list if none does). Raises PullError once the server refused a request."""
        if self._failed is not None:
            raise PullError(self._failed)
        if not self._buffer:
            self._arrived.clear()
            await self._refill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
            if self._failed is not None and not self._buffer:
                raise PullError(self._failed)
        n = min(len(self._buffer), self.batch)
        msgs = [self._buffer.popleft() for _ in range(n)]
        await self._refill()
        return msgs

    async def _on_msg(self, msg: Msg) -> None:
        if not msg.reply.startswith(ACK_PREFIX):
            await self._on_status(msg)
            return
        self._buffer.append(msg)
        self._arrived.set()
        # a delivery carries the stream's subject, not the request's: the server fills one
        # client's requests in the order they came, so it counts against the oldest
        token = next(iter(self._requests), None)
        if token is not None:
            request = self._requests[token]
            request.delivered += 1
            if request.delivered >= request.size:
                self._end(token)
                await self._refill()

    async def _on_status(self, msg: Msg) -> None:
        """A message without an ack reply: the server's status about a request (on that request's
        own reply subject), or — with a reply or data, or no status — nothing the server sends."""
        status = msg.headers.get(Header.STATUS) if msg.headers else None
        if msg.reply or msg.data or status is None:
            log.warning("ignored a message on the pull inbox that is neither a delivery nor a status")
            return
        if status in ENDED:
            self._end(msg.subject.rsplit(".", 1)[-1])
            await self._refill()
        elif status != CONTROL:
            description = msg.headers.get(Header.DESCRIPTION, "") if msg.headers else ""
            self._failed = f"pull request refused: {status} {description}".strip()
            self._arrived.set()

    def _end(self, token: str) -> None:
        self._requests.pop(token, None)

    async def _refill(self) -> None:
        """Open requests until `in_flight` are open or the buffer has no more room; a request
        the server never answered (e.g. across a reconnect) counts as ended a while after it
        expired."""
        if self._failed is not None:
            return
        now = time.monotonic()
        for token in [k for k, r in self._requests.items() if now > r.expires_at + 2.0]:
            self._end(token)
        while len(self._requests) < self.in_flight:
            room = self.limit - len(self._buffer) - self._outstanding()
            size = min(self.batch, room)
            if size < max(1, self.batch // 4):
                return
            self._counter += 1
            token = str(self._counter)
            self._requests[token] = _Request(size, now + self.expires)
            body = json.dumps({"batch": size, "expires": int(self.expires * 1e9)}).encode()
            await self.nc.publish(self._next, body, reply=f"{self._inbox}.{token}")

    def _outstanding(self) -> int:
        return sum(r.size - r.delivered for r in self._requests.values())
