"""Store-and-forward: publish signed envelopes to JetStream, advance the cursor only on acks.

Transport is at-least-once: after any failure the forwarder starts again from its durable
cursor, and JetStream drops the repeats by `Nats-Msg-Id: <node_id>:<seq>` within its
duplicate window. The cursor only ever moves to the highest *contiguous* acknowledged seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nats.js.errors import NotFoundError

from services.branch_node.service import NodeService
from shared import receipt
from shared.transport import connect
from shared.wire import RECEIPTS_STREAM, msg_id, receipts_subject

log = logging.getLogger("tongxin.node.forwarder")

CURSOR_EVERY = 1.0
"""Seconds between saves of the forwarding cursor while busy (and always when idle or stopping):
a save is a synchronous commit, and one lost to a crash only means envelopes published again,
which JetStream's Msg-Id window and the county's archive both recognise as duplicates."""

RECEIPT_EVERY = 1.0
"""Seconds between asking for the county's newest receipt (and at the end of a `once` run)."""

Progress = Callable[[int, int], None]
"""(forwarded_seq, last_seq) after each stretch of acknowledgements."""


class ForwardError(RuntimeError):
    pass


@dataclass
class Backoff:
    """Exponential backoff with full jitter: sleep a random time up to base·2^attempt, capped."""

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt = min(self.attempt + 1, 30)
        return delay

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class ForwarderState:
    connected: bool = False
    last_error: str | None = None
    published: int = 0
    acked: int = 0
    failures: int = 0
    last_ack_at: datetime | None = None
    last_receipt_seq: int = 0
    resent: int = 0
    """Envelopes published again by repair (the county had not confirmed them, or asked)."""
    repairs: int = 0
    """Repair incidents: each stretch of unconfirmed envelopes re-sent, or a range the county asked for."""
    requests: int = 0
    """Re-send requests received from the county."""
    forked: str | None = None
    """Why forwarding stopped (the county holds a history this log does not), until `node recover`."""
    started_at: float = field(default_factory=time.monotonic)


class Forwarder:
    def __init__(
        self,
        node: NodeService,
        nats_url: str,
        *,
        window: int = 4000,
        read_chunk: int = 1000,
        ack_timeout: float = 10.0,
        cursor_every: int = 2000,
        backoff: Backoff | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.node = node
        self.nats_url = nats_url
        self.window = window
        self.read_chunk = read_chunk
        self.ack_timeout = ack_timeout
        self.cursor_every = cursor_every
        self.backoff = backoff or Backoff()
        self.progress = progress
        self.state = ForwarderState()
        self.wake = asyncio.Event()
        self._receipt_due = 0.0
        self._cursor_due = 0.0
        self._unsaved: tuple[int, int] | None = None
        """(acknowledged seq, last seq) not yet saved in the cursor."""

    async def run(self, stop: asyncio.Event, *, once: bool = False, idle_poll: float = 1.0) -> None:
        """Forward until `stop` is set (or, with once, until the backlog is empty)."""
        while not stop.is_set():
            try:
                nc = await self._connect()
            except Exception as exc:
                await self._failed(f"connect: {exc!r}", stop)
                continue
            try:
                await self._serve(nc, stop, once=once, idle_poll=idle_poll)
                if once:
                    return
            except Exception as exc:
                await self._failed(f"forward: {exc!r}", stop)
            finally:
                self.state.connected = False
                with contextlib.suppress(Exception):
                    await nc.close()

    async def _connect(self) -> Any:
        nc = await connect(self.nats_url, pending_size=64 * 1024 * 1024)
        self.state.connected = True
        log.info("connected", extra={"nats_url": self.nats_url})
        return nc

    async def _failed(self, reason: str, stop: asyncio.Event) -> None:
        self.state.connected = False
        self.state.failures += 1
        self.state.last_error = reason
        delay = self.backoff.next_delay()
        log.warning("forwarding interrupted", extra={"reason": reason, "retry_in_s": round(delay, 2)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _serve(self, nc: Any, stop: asyncio.Event, *, once: bool, idle_poll: float) -> None:
        # in-flight publishes are bounded by `window` here, so nats-py's own limit never stalls
        js = nc.jetstream(publish_async_max_pending=self.window + self.read_chunk)
        # no stream for our subject yet (a county still setting up): wait, rather than publish
        # into nothing and have later envelopes overtake the first ones once it appears
        await js.find_stream_name_by_subject(self.node.subject)
        try:
            while not stop.is_set():
                if nc.is_closed or not nc.is_connected:
                    raise ForwardError("connection lost")
                # a record commits, then wakes us: one logged after this clear sets it again
                self.wake.clear()
                sent = await self._pump(js, stop)
                if sent:
                    self.backoff.reset()
                if once and not sent:
                    await self._fetch_receipt(js)
                    return
                if time.monotonic() >= self._receipt_due:  # receipts are cumulative: one will do
                    await self._fetch_receipt(js)
                    self._receipt_due = time.monotonic() + RECEIPT_EVERY
                if once or self.wake.is_set():
                    continue  # a round found everything logged before it: another only if woken
                await self._idle(idle_poll)
        finally:
            if self._unsaved is not None and (stop.is_set() or once):
                await self._save(*self._unsaved)

    async def _idle(self, idle_poll: float) -> None:
        """Wait for a wake (or `idle_poll`); an acknowledged seq not yet in the cursor is saved
        when its second comes (CURSOR_EVERY), not after every round: a node forwarding clerks'
        events one at a time would otherwise write (and sync) its cursor for each."""
        if self._unsaved is not None and time.monotonic() >= self._cursor_due:
            await self._save(*self._unsaved)
        wait = idle_poll if self._unsaved is None else min(idle_poll, self._cursor_due - time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), max(wait, 0.0))

    async def _pump(self, js: Any, stop: asyncio.Event) -> int:
        """Publish everything after the cursor, pipelined; returns how many were acknowledged.

        Stops early when `stop` is set: in-flight publishes are awaited and the cursor saved.
        """
        start, last_seq, rows = await asyncio.to_thread(self._first_rows)
        inflight: deque[tuple[int, asyncio.Future[Any]]] = deque()
        acked = saved = start
        try:
            while rows and not stop.is_set():
                for seq, hash, data in rows:
                    if len(inflight) >= self.window:
                        acked = await self._oldest_acked(inflight)
                    fut = await js.publish_async(
                        self.node.subject, data, headers={"Nats-Msg-Id": msg_id(self.node.node_id, seq, hash)}
                    )
                    inflight.append((seq, fut))
                    self.state.published += 1
                    while inflight and inflight[0][1].done():
                        acked = self._acked(*inflight.popleft())
                if acked - saved >= self.cursor_every:
                    saved = await self._save(acked, last_seq)
                if len(rows) < self.read_chunk:
                    break  # that was all
                rows = await asyncio.to_thread(self.node.envelopes.rows_after, rows[-1][0], self.read_chunk)
            while inflight:
                acked = await self._oldest_acked(inflight)
        finally:
            for _, fut in inflight:
                fut.cancel()
            if acked > saved:
                if stop.is_set() or time.monotonic() >= self._cursor_due:
                    await self._save(acked, max(last_seq, acked))
                else:
                    self._unsaved = (acked, max(last_seq, acked))
        return acked - start

    def _first_rows(self) -> tuple[int, int, list[tuple[int, str, bytes]]]:
        """Sign what is logged, then (forwarded seq, last seq, the first chunk after it): one
        trip to a worker thread per round, which costs more than these reads themselves."""
        self.node.sign_pending()
        start = self.node.envelopes.cursor().forwarded_seq
        if self._unsaved is not None:
            start = max(start, self._unsaved[0])
        return start, self.node.log.last_seq(), self.node.envelopes.rows_after(start, self.read_chunk)

    async def _fetch_receipt(self, js: Any) -> None:
        """Keep the county's newest receipt for this node, while one is still owed."""
        last = self.node.receipts.last()
        forwarded = self.node.envelopes.cursor().forwarded_seq
        if forwarded == 0 or (last is not None and last.seq >= forwarded):
            return
        subject = receipts_subject(self.node.config.county_id, self.node.node_id)
        try:
            msg = await js.get_last_msg(RECEIPTS_STREAM, subject)
        except NotFoundError:
            return  # none issued yet
        kept = self.node.receipts.accept(receipt.decode(msg.data), self.node.node_id)
        if kept is not None:
            self.state.last_receipt_seq = kept.seq
            log.info("receipt", extra={"seq": kept.seq, "verified": kept.verified, "matches": kept.matches})

    async def _oldest_acked(self, inflight: deque[tuple[int, asyncio.Future[Any]]]) -> int:
        """Wait for the oldest in-flight publish to be acknowledged; its seq is then forwarded."""
        try:
            await asyncio.wait_for(asyncio.shield(inflight[0][1]), self.ack_timeout)
        except TimeoutError:
            raise ForwardError(f"no acknowledgement within {self.ack_timeout}s") from None
        return self._acked(*inflight.popleft())

    def _acked(self, seq: int, fut: asyncio.Future[Any]) -> int:
        fut.result()  # raises the publish error, if any
        self.state.acked += 1
        return seq

    async def _save(self, acked: int, last_seq: int) -> int:
        now = datetime.now(UTC)
        await asyncio.to_thread(self.node.envelopes.advance, acked, now)
        self._unsaved, self._cursor_due = None, time.monotonic() + CURSOR_EVERY
        self.state.last_ack_at = now
        if self.progress is not None:
            self.progress(acked, last_seq)
        return acked
