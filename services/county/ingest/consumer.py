"""The JetStream side of ingest: a durable pull consumer, explicit acks after the commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from services.county.ingest.consumer_state import ConsumerState, NatsRefusedError
from services.county.ingest.durable import consumer_name, ensure_consumer, prune_consumers
from services.county.ingest.incoming import Incoming, incoming
from services.county.ingest.node_keys import RevocationWatch
from services.county.ingest.partitions import Share
from services.county.ingest.poison import one_by_one
from services.county.ingest.processor import Ingestor
from services.county.ingest.pull import Puller
from services.county.repair.announce import announce
from services.county.repair.archive_reply import serve_archive
from services.county.repair.gaps import GapWatcher
from shared import receipt
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.signing import VerifyPool
from shared.streams import ensure_streams_on
from shared.transport import connect, shown
from shared.warning_backoff import WarningBackoff
from shared.wire import RECEIPTS_STREAM, STREAM, receipts_subject

log = logging.getLogger("tongxin.county.ingest")

BATCH = 2000
"""Messages per ingest transaction at most (fewer when fewer are waiting): each commit syncs to
disk once, so a backlog drains faster in bigger batches (SQLite, 105,000 events fed straight to
`Ingestor.process`: 1,000 → 2,000 per batch was ~10 % faster)."""

MAX_FAILURES = 10
"""A message whose processing failed this often, alone, goes to quarantine instead of being retried
forever (it is never dropped)."""


class Consumer:
    def __init__(
        self,
        ingestor: Ingestor,
        nats_url: str | Sequence[str],
        *,
        batch: int = BATCH,
        ack_wait: float = 30.0,
        max_failures: int = MAX_FAILURES,
        verify_workers: int = 1,
        repair_grace: float | None = None,
        identity: NatsIdentity = ANONYMOUS,
        share: Share | None = None,
        ingest: bool = True,
    ) -> None:
        self.ingestor = ingestor
        self.share = share
        """This worker's share of the county's nodes (`partitions`); None: one ingest reads all."""
        self.ingest = ingest
        """Off: only the responders (keys, notices, references), beside separate ingest workers."""
        if share is not None:
            ingestor.positions = tuple(share.position_keys())
        self.nats_url = shown(nats_url)
        """The NATS server, or the servers of a cluster comma-separated."""
        self.identity = identity
        self.batch = batch
        self.ack_wait = ack_wait
        self.max_failures = max_failures
        self.verify = VerifyPool(verify_workers)
        """Checks each batch's signatures ahead of its transaction (0 workers: in the thread)."""
        self.state = ConsumerState()
        signer = ingestor.signer
        self.gaps = (
            GapWatcher(ingestor.engine, ingestor.county_id, signer, repair_grace)
            if signer is not None and repair_grace is not None
            else None
        )
        """Asks nodes to re-send the gaps held longer than `repair_grace` (None: never asks)."""
        if self.gaps is not None and share is not None:
            self.gaps.owns = share.owns  # another worker's backlog is no gap of this one's
        self._js: Any = None
        self.on_batch: list[Any] = []
        self.responders: list[Callable[[Any], Awaitable[Any]]] = []
        """Subscribed on each connection beside the archive's (e.g. the key responder); each
        returns its subscription, unsubscribed when the connection ends."""
        self.revocations = RevocationWatch(ingestor.engine)
        self._pruned = False
        """Whether the consumers of another ingest layout were deleted (once a process)."""

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        """Consume until `stop` (or, with once, until nothing is pending); reconnects on failure."""
        try:
            try:
                await asyncio.to_thread(self.verify.start)
            except Exception as exc:  # e.g. no process can be spawned: verify in the thread instead
                log.warning("no signature worker; verifying in a thread", extra={"error": repr(exc)})
                self.verify = VerifyPool(0)
            await self._run(stop, once=once)
        finally:
            self.verify.close()

    async def _run(self, stop: asyncio.Event, *, once: bool) -> None:
        unreachable = WarningBackoff(log, "NATS")
        while not stop.is_set():
            try:
                nc = await connect(self.nats_url, identity=self.identity)
            except Exception as exc:
                self.state.last_error = repr(exc)
                if once and "authorization violation" in str(exc).lower():
                    raise NatsRefusedError(
                        f"NATS at {self.nats_url} refused the county's credentials: give the "
                        "county's seed with --nats-seed (county.seed in the server's access directory)"
                    ) from exc
                unreachable.failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            unreachable.succeeded()
            self.state.connected = True
            try:
                if await self._consume(nc, stop, once=once):
                    return
            except Exception as exc:
                self.state.last_error = repr(exc)
                log.warning("ingest interrupted", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
            finally:
                self.state.connected = False
                with contextlib.suppress(Exception):
                    await nc.close()

    async def _consume(self, nc: Any, stop: asyncio.Event, *, once: bool) -> bool:
        js = nc.jetstream()
        await ensure_streams_on(js)  # the county owns its streams (idempotent)
        self._js = js
        cid = self.ingestor.county_id
        share = self.share
        name = share.consumer_name(cid) if share is not None else consumer_name(cid)
        if self.ingest and not self._pruned:
            await prune_consumers(js, cid, share)
            self._pruned = True
        idle = not self.ingest or (
            await ensure_consumer(js, self.ingestor.engine, cid, self.ack_wait, share) == "idle"
        )
        nodes = await self._nodes()
        await asyncio.to_thread(self.revocations.seen)
        if self.ingest:
            await self._announce()
        archive = await serve_archive(nc, self.ingestor.engine, cid)
        answering = [await respond(nc) for respond in self.responders]
        try:
            if idle:
                return await self._idle(stop, once=once)
            return await self._pull(nc, name, nodes, stop, once=once)
        finally:
            await _unsubscribe(archive, *answering)

    async def _pull(self, nc: Any, name: str, nodes: list[str], stop: asyncio.Event, *, once: bool) -> bool:
        """Pull, commit and ack until `stop` (or, with once, until drained); False: reconnect."""
        js = self._js
        ended = asyncio.Event()
        watching = None
        if self.gaps is not None and not once:
            watching = asyncio.ensure_future(
                self.gaps.run(ended, nc.publish, js, lambda: self._drained(js, name))
            )
        puller = Puller(nc, STREAM, name, batch=self.batch)
        await puller.start()
        handling: asyncio.Future[None] | None = None  # the batch being committed, then acked
        self.state.consuming = True
        try:
            while not stop.is_set():
                msgs = await puller.take(timeout=0.5)
                if not msgs:
                    if handling is not None:
                        await handling
                        handling = None
                    await self._revoked()
                    if self.share is not None and await self._nodes() != nodes:
                        return False  # a node enrolled: the consumer is recreated with it
                    if once and await self._drained(js, name):
                        return True
                    continue
                # a pipeline: check this batch's signatures while the batch before it commits
                # (and the puller's requests bring the next); batches still commit one after
                # the other, each acked only after its commit
                items = await self._prepared(msgs, handling)
                if handling is not None:
                    await handling
                handling = asyncio.ensure_future(self.handle(msgs, items))
        finally:
            self.state.consuming = False
            ended.set()
            if watching is not None:
                await watching
            await puller.stop()
            if handling is not None:
                with contextlib.suppress(Exception):  # unacked messages are redelivered
                    await handling
        return False

    async def _idle(self, stop: asyncio.Event, *, once: bool) -> bool:
        """Nothing to consume (`ingest` off, or a worker owning no enrolled node yet): answer the
        responders until `stop`, or until a node of this worker's is enrolled."""
        self.state.consuming = True
        try:
            while not once and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                if await self._nodes():
                    return False
            return True
        finally:
            self.state.consuming = False

    async def _nodes(self) -> list[str]:
        """This worker's enrolled nodes, their slots read afresh: from then on `share.owns` (the
        gap watcher's and the announcement's) knows a node enrolled since (`Share.nodes`)."""
        share = self.share
        return [] if share is None else await asyncio.to_thread(share.nodes, self.ingestor.engine)

    async def _announce(self) -> None:
        """Fresh receipts at every archived head (after a restore, lower than the old ones)."""
        signing = self.ingestor.signing
        if signing is None:
            return
        owns = self.share.owns if self.share is not None else (lambda _node_id: True)
        self.ingestor.outbox += await asyncio.to_thread(
            announce, self.ingestor.engine, signing, self.ingestor.county_id, owns
        )
        await self._publish_receipts()

    async def _revoked(self) -> None:
        """While idle: a node key revoked by another process since the last look is announced
        (every head freshly receipted, the revoked node's the one before the revoked seq)."""
        if await asyncio.to_thread(self.revocations.new, time.monotonic()):
            log.warning("a node key was revoked: the heads are announced")
            await asyncio.to_thread(self.revocations.seen)
            await asyncio.to_thread(self.ingestor.keys.refresh)
            await self._announce()

    @staticmethod
    async def _drained(js: Any, name: str) -> bool:
        info = await js.consumer_info(STREAM, name)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    async def _prepared(self, msgs: list[Any], previous: asyncio.Future[None] | None) -> list[Incoming]:
        """The messages as `Incoming`, prechecked in a worker thread (while `previous` commits)."""
        items = incoming(msgs)
        try:
            return await asyncio.to_thread(self.ingestor.prepare, items, self.verify)
        except Exception as exc:  # process() checks everything itself regardless
            log.warning("precheck failed; the batch is checked in process", extra={"error": repr(exc)})
            return items

    async def handle(self, msgs: list[Any], items: list[Incoming] | None = None) -> None:
        """Process a fetched batch in one transaction, then ack each message. A batch that fails
        (nothing committed) is processed again one message per transaction (`_one_by_one`)."""
        items = items or incoming(msgs)
        try:
            await asyncio.to_thread(self.ingestor.process, items)
        except Exception as exc:
            await one_by_one(self.ingestor, msgs, items, exc, self.max_failures)
            return
        for m in msgs:
            await m.ack()
        await self._publish_receipts()
        self.state.batches += 1
        self.state.messages += len(msgs)
        self.state.last_batch_at = time.time()
        for callback in self.on_batch:
            callback(len(msgs))

    async def _publish_receipts(self) -> None:
        """Send each node its newest receipt; one that fails is superseded by the next batch's
        (receipts are cumulative) and is kept in the county's receipts table regardless."""
        outbox, self.ingestor.outbox = self.ingestor.outbox, []
        for r in outbox:
            try:
                await self._js.publish(
                    receipts_subject(r.county_id, r.node_id), receipt.encode(r), stream=RECEIPTS_STREAM
                )
            except Exception as exc:
                log.warning("receipt not published", extra={"node_id": r.node_id, "error": repr(exc)})


async def _unsubscribe(*subs: Any) -> None:
    for sub in subs:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
