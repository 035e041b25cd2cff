"""The province's ingest: a durable pull consumer on TONGXIN_PROVINCE, each message handed to
its county's receipt-less `Ingestor` (`store.ProvinceStore`), acknowledged after the commit.

A batch is split by the county in each message's subject; each county's part commits in its own
database and is acknowledged after that commit. What fails is not acknowledged and JetStream
delivers it again: the county's ingest is idempotent on (node, seq, hash), so a message
delivered twice — or copied twice into the stream — is archived once (`duplicate`); a message
that fails alone `max_failures` times is quarantined (`processing_error`), as at the county. A message
whose subject names no county of this province is left unacknowledged and said in the log (the
stream's sources only copy the province's counties, so none should come). The province asks no
node for anything: a gap waits for its county to repair it (docs/province.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from services.county.ingest import quarantine
from services.county.ingest.checks import RefusedError
from services.county.ingest.consumer import MAX_FAILURES
from services.county.ingest.incoming import Incoming, incoming
from services.county.ingest.processor import Ingestor
from services.county.ingest.pull import Puller
from services.province.durable import DURABLE, SETTLE_EVERY, ensure_durable, settle
from services.province.store import ProvinceStore
from services.province.stream import PROVINCE_MAX_BYTES, PROVINCE_STREAM, ensure_province_stream
from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.transport import connect, shown
from shared.warning_backoff import WarningBackoff
from shared.wire import parse_subject

log = logging.getLogger("tongxin.province.ingest")


class ProvinceIngest:
    def __init__(
        self,
        store: ProvinceStore,
        nats_url: str | Sequence[str],
        *,
        identity: NatsIdentity = ANONYMOUS,
        batch: int = 1000,
        ack_wait: float = 30.0,
        max_bytes: int = PROVINCE_MAX_BYTES,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        self.store, self.nats_url, self.identity = store, shown(nats_url), identity
        self.batch, self.ack_wait, self.max_bytes = batch, ack_wait, max_bytes
        self.max_failures = max_failures
        self.counts: Counter[str] = Counter()
        """Outcomes so far (archived, duplicate, held, quarantined), all counties together."""
        self.consuming = False
        self.durable = ""
        """What the last connection did to the durable: kept, created, recreated."""

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        """Consume until `stop` (with `once`: until nothing is pending); reconnects on failure."""
        unreachable = WarningBackoff(log, "NATS")
        while not stop.is_set():
            try:
                nc = await connect(self.nats_url, identity=self.identity)
            except Exception as exc:
                unreachable.failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            unreachable.succeeded()
            try:
                if await self._consume(nc, stop, once=once):
                    return
            except Exception as exc:
                log.warning("province ingest interrupted", extra={"error": repr(exc)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
            finally:
                self.consuming = False
                with contextlib.suppress(Exception):
                    await nc.close()

    async def _consume(self, nc: Any, stop: asyncio.Event, *, once: bool) -> bool:
        js = nc.jetstream()
        await ensure_province_stream(js, self.store.county_ids, max_bytes=self.max_bytes)
        self.durable = await ensure_durable(js, self.store, self.ack_wait)
        puller = Puller(nc, PROVINCE_STREAM, DURABLE, batch=self.batch)
        await puller.start()
        self.consuming = True
        settled, due = -1, 0.0
        try:
            while not stop.is_set():
                msgs = await puller.take(timeout=0.5)
                if msgs:
                    await self.handle(msgs)
                if not msgs or time.monotonic() > due:  # idle, or a while since: positions up
                    due = time.monotonic() + SETTLE_EVERY
                    settled = await self._settle(js, settled)
                if not msgs and once and await self._drained(js):
                    return True
        finally:
            await puller.stop()
        return False

    async def _settle(self, js: Any, settled: int) -> int:
        info = await js.consumer_info(PROVINCE_STREAM, DURABLE)
        floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
        if floor > settled:
            await asyncio.to_thread(settle, self.store, floor)
        return max(floor, settled)

    @staticmethod
    async def _drained(js: Any) -> bool:
        info = await js.consumer_info(PROVINCE_STREAM, DURABLE)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    async def handle(self, msgs: list[Any]) -> None:
        """Each county's part of the batch in its own transaction; then the acks."""
        parts: dict[str, list[tuple[Any, Incoming]]] = defaultdict(list)
        for m, item in zip(msgs, incoming(msgs), strict=True):
            parsed = parse_subject(item.subject)
            parts[parsed.county_id if parsed is not None else ""].append((m, item))
        for county_id, part in parts.items():
            ingestor = self.store.ingestor(county_id)
            if ingestor is None:
                log.warning("a message of no county of this province", extra={"subject": part[0][1].subject})
                continue
            items = [item for _, item in part]
            try:
                outcomes = await asyncio.to_thread(ingestor.process, items)
            except Exception as exc:  # nothing of this part committed: each message alone
                log.warning("county part failed", extra={"county_id": county_id, "error": repr(exc)[:300]})
                await self._one_by_one(ingestor, part)
                continue
            self.counts.update(outcomes)
            for m, _ in part:
                await m.ack()

    async def _one_by_one(self, ingestor: Ingestor, part: list[tuple[Any, Incoming]]) -> None:
        """Each message of a failed part in a transaction of its own: one that fails again is left
        for redelivery, and at its `max_failures`th delivery quarantined (`processing_error`) in
        its county's database, as the county's ingest does (never dropped)."""
        for m, item in part:
            try:
                self.counts.update(await asyncio.to_thread(ingestor.process, [item]))
            except Exception as exc:
                if m.metadata.num_delivered < self.max_failures:
                    continue  # not acked: JetStream delivers it again after ack_wait
                err = RefusedError(
                    "processing_error", f"failed {self.max_failures} deliveries: {exc!r}"[:2000]
                )
                await asyncio.to_thread(_keep, ingestor, item, err)
                self.counts["quarantined"] += 1
            await m.ack()


def _keep(ingestor: Ingestor, item: Incoming, err: RefusedError) -> None:
    with ingestor.engine.begin() as conn:
        quarantine.keep(conn, item, err)
