"""Store-and-forward: publish signed envelopes to JetStream, advance the cursor only on acks.

Transport is at-least-once: after any failure the forwarder starts again from its durable
cursor, and JetStream drops the repeats by `Nats-Msg-Id: <node_id>:<seq>:<hash>` within its
duplicate window (the id commits to the content, so only the same envelope is dropped). The
cursor only ever moves to the highest *contiguous* acknowledged seq: that is "sent". What counts
is the county's receipt ("confirmed"): what it does not confirm is re-sent (`repair`), and when
its receipt names a history this log does not hold (a fork) forwarding stops until
`tongxin node recover`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.branch_node.confirm import Confirmations
from services.branch_node.erasure import Erasures, as_notice
from services.branch_node.forwarding_state import Backoff, ForwarderState
from services.branch_node.repair import Repair
from services.branch_node.service import NodeService
from shared.transport import connect, shown
from shared.warning_backoff import WarningBackoff
from shared.wire import msg_id, rekeyed_msg_id, requests_subject, resend_msg_id

log = logging.getLogger("tongxin.node.forwarder")

CURSOR_EVERY = 1.0
"""Seconds between saves of the forwarding cursor while busy (and always when idle or stopping):
a save is a synchronous commit, and one lost to a crash only means envelopes published again,
which JetStream's Msg-Id window and the county's archive both recognise as duplicates."""

REPAIR_GRACE = 60.0
"""Seconds the county's receipt may stand still while some sent are unconfirmed before those are
re-sent (the county may just be busy with a backlog: its receipts then move, and nothing is)."""

Progress = Callable[[int, int], None]
"""(forwarded_seq, last_seq) after each stretch of acknowledgements."""


class ForwardError(RuntimeError):
    pass


class Forwarder:
    def __init__(
        self,
        node: NodeService,
        nats_url: str | Sequence[str],
        *,
        window: int = 4000,
        read_chunk: int = 1000,
        ack_timeout: float = 10.0,
        cursor_every: int = 2000,
        backoff: Backoff | None = None,
        progress: Progress | None = None,
        repair_grace: float = REPAIR_GRACE,
    ) -> None:
        self.node = node
        self.nats_url = shown(nats_url)
        """The county's NATS server, or its servers comma-separated (a cluster)."""
        self.identity = node.dir.nats_identity()
        self.window = window
        self.read_chunk = read_chunk
        self.ack_timeout = ack_timeout
        self.cursor_every = cursor_every
        self.backoff = backoff or Backoff()
        self.warnings = WarningBackoff(log, "the county's NATS", headline="forwarding interrupted")
        """Retries go on at `backoff`'s pace; the warnings about them back off (5 s … 5 min)."""
        self.progress = progress
        self.state = ForwarderState()
        self.repair = Repair(node.node_id, node.config.county_id, node.county_trust.verifiers, repair_grace)
        self.confirmations = Confirmations(node, self.repair, self.state)
        self.erasures = Erasures(node.node_id, node.config.county_id, node.county_trust.verifiers, node.keys)
        self.wake = asyncio.Event()
        self._receipt_due = 0.0
        self._cursor_due = 0.0
        self._unsaved: tuple[int, int] | None = None
        """(acknowledged seq, last seq) not yet saved in the cursor."""
        self._rekeyed: tuple[int, str] | None = None
        """The last rekey (from seq, key id): envelopes from it are sent under Msg-Ids of their own."""

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
        nc = await connect(self.nats_url, identity=self.identity, pending_size=64 * 1024 * 1024)
        self.state.connected = True
        log.info("connected", extra={"nats_url": self.nats_url})
        return nc

    async def _failed(self, reason: str, stop: asyncio.Event) -> None:
        self.state.connected = False
        self.state.failures += 1
        self.state.last_error = reason
        delay = self.backoff.next_delay()
        self.warnings.failed(reason)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    async def _serve(self, nc: Any, stop: asyncio.Event, *, once: bool, idle_poll: float) -> None:
        # in-flight publishes are bounded by `window` here, so nats-py's own limit never stalls
        js = nc.jetstream(publish_async_max_pending=self.window + self.read_chunk)
        # no streams yet (a county still setting up): wait, rather than publish into nothing and
        # have later envelopes overtake the first ones once they appear. The probe is a direct get
        # of this node's own receipt, the one JetStream API call its NATS permissions allow.
        await self.confirmations.probe(js)
        requests = await nc.subscribe(
            requests_subject(self.node.config.county_id, self.node.node_id), cb=self._on_request
        )
        self.warnings.succeeded()  # connected and the streams answer: forwarding works again
        self.repair.reset_clock(time.monotonic())
        await asyncio.to_thread(self.confirmations.take, None)  # a fork known from before: send nothing
        self._receipt_due = 0.0
        try:
            while not stop.is_set():
                if nc.is_closed or not nc.is_connected:
                    raise ForwardError("connection lost")
                # a record commits, then wakes us: one logged after this clear sets it again
                self.wake.clear()
                sent = 0 if self.state.forked else await self._pump(js, stop)
                if sent:
                    self.backoff.reset()
                if once and not sent:
                    await self.fetch_receipt(js)
                    return
                if time.monotonic() >= self._receipt_due:  # receipts are cumulative: one will do
                    await self.fetch_receipt(js)
                if not self.state.forked and not once:
                    await self._repair(js)
                if once or self.wake.is_set():
                    continue  # a round found everything logged before it: another only if woken
                await self._idle(idle_poll)
        finally:
            with contextlib.suppress(Exception):
                await requests.unsubscribe()
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
                        self.node.subject, data, headers={"Nats-Msg-Id": self._msg_id(seq, hash)}
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

    def _msg_id(self, seq: int, hash: str) -> str:
        """The Msg-Id of an envelope: signed again after a rekey, it has one of its own (the
        envelope signed before had the same hash, and JetStream would drop this one)."""
        if self._rekeyed is not None and seq >= self._rekeyed[0]:
            return rekeyed_msg_id(self.node.node_id, seq, hash, self._rekeyed[1])
        return msg_id(self.node.node_id, seq, hash)

    def _first_rows(self) -> tuple[int, int, list[tuple[int, str, bytes]]]:
        """Sign what is logged, then (forwarded seq, last seq, the first chunk after it): one
        trip to a worker thread per round, which costs more than these reads themselves."""
        self.node.sign_pending()
        rekeys = self.node.envelopes.rekeys()
        self._rekeyed = max(rekeys.items()) if rekeys else None
        start = self.node.envelopes.cursor().forwarded_seq
        if self._unsaved is not None:
            start = max(start, self._unsaved[0])
        return start, self.node.log.last_seq(), self.node.envelopes.rows_after(start, self.read_chunk)

    async def _on_request(self, msg: Any) -> None:
        if (notice := as_notice(msg.data)) is not None:
            await asyncio.to_thread(self.erasures.take, notice)
            return
        if self.repair.request(msg.data):
            self.state.requests = self.repair.counters.requests
            self.wake.set()

    async def fetch_receipt(self, js: Any) -> None:
        """Ask for the county's newest receipt now (public for `node forward --wait-confirmed`)."""
        every = await self.confirmations.fetch(js, self._sent())
        self._receipt_due = time.monotonic() + every

    def _sent(self) -> int:
        """The highest seq JetStream acknowledged: the cursor, or what is not saved in it yet."""
        saved = self.node.envelopes.cursor().forwarded_seq
        return saved if self._unsaved is None else max(saved, self._unsaved[0])

    async def _repair(self, js: Any) -> None:
        """Re-send what the repair finds due (see `services.branch_node.repair`)."""
        due = self.repair.due(time.monotonic(), self.confirmations.confirmed, self._sent())
        if due is not None:
            await self._resend(js, *due)
        self.state.repairs, self.state.requests = self.repair.counters.repairs, self.repair.counters.requests

    async def _resend(self, js: Any, first: int, last: int) -> None:
        """Publish seqs first..last again, byte for byte, each under a Msg-Id of its own."""
        attempt = f"r{time.time_ns():x}"
        seq = first - 1
        while seq < last:
            rows = await asyncio.to_thread(
                self.node.envelopes.rows_after, seq, min(self.read_chunk, last - seq)
            )
            if not rows:
                return
            futs = [
                await js.publish_async(
                    self.node.subject,
                    data,
                    headers={"Nats-Msg-Id": resend_msg_id(self.node.node_id, s, h, attempt)},
                )
                for s, h, data in rows
            ]
            try:
                await asyncio.wait_for(asyncio.gather(*futs), self.ack_timeout)
            except TimeoutError:
                raise ForwardError(f"no acknowledgement of a re-send within {self.ack_timeout}s") from None
            self.state.resent += len(rows)
            seq = rows[-1][0]

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
