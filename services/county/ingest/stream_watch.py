"""What the ingest sees of JetStream: the events stream's size against its limits and the county
consumer's backlog, polled over the ingest's own connection and exported by its registry.

`tongxin_stream_bytes` / `_messages` are the stream's state, `tongxin_stream_max_bytes` /
`_max_messages` its configured limits (`shared.streams.stream_config`: 8 GiB; no message limit,
given as -1, JetStream's "unlimited"). `tongxin_county_ingest_pending` is what the county's durable
has not delivered yet, `tongxin_county_ingest_ack_pending` what it delivered and the county has
not acknowledged (committed) yet: together, the ingest lag in messages. Nothing is exported while
the ingest is not connected (`tongxin_county_nats_connected` says so), never a stale value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.county.ingest.durable import consumer_name
from shared.wire import STREAM

log = logging.getLogger("tongxin.county.ingest")

POLL_EVERY = 5.0
"""Seconds between two looks (a Prometheus scrape is every 15 s or more)."""


@dataclass(frozen=True)
class StreamStats:
    bytes: int
    messages: int
    max_bytes: int
    max_messages: int
    pending: int
    ack_pending: int


async def stream_stats(js: Any, county_id: str, *, workers: bool = False) -> StreamStats:
    """The events stream's state and limits, and the county's durable consumer's backlog — with
    `workers`, the backlog of every ingest worker's consumer (`county-<county>-w…`) added up."""
    stream = await js.stream_info(STREAM)
    if workers:
        prefix = f"{consumer_name(county_id)}-w"
        found = [c for c in await js.consumers_info(STREAM) if c.name.startswith(prefix)]
        pending = sum(int(c.num_pending or 0) for c in found)
        ack_pending = sum(int(c.num_ack_pending or 0) for c in found)
    else:
        consumer = await js.consumer_info(STREAM, consumer_name(county_id))
        pending, ack_pending = int(consumer.num_pending or 0), int(consumer.num_ack_pending or 0)
    return StreamStats(
        bytes=int(stream.state.bytes or 0),
        messages=int(stream.state.messages or 0),
        max_bytes=int(stream.config.max_bytes if stream.config.max_bytes is not None else -1),
        max_messages=int(stream.config.max_msgs if stream.config.max_msgs is not None else -1),
        pending=pending,
        ack_pending=ack_pending,
    )


class StreamWatch:
    """Polls `stream_stats` every `every` seconds while the ingest is connected. `attach` is a
    responder of the `Consumer` (called on each connection; what it returns is unsubscribed when
    the connection ends), so `latest` is None whenever there is no connection."""

    def __init__(self, county_id: str, every: float = POLL_EVERY, *, workers: bool = False) -> None:
        self.county_id = county_id
        self.workers = workers
        """The backlog of W ingest workers' consumers (beside `county serve --no-ingest`)."""
        self.every = every
        self.latest: StreamStats | None = None

    async def attach(self, nc: Any) -> Polling:
        return Polling(self, asyncio.ensure_future(self._poll(nc.jetstream())))

    async def _poll(self, js: Any) -> None:
        while True:
            try:
                self.latest = await stream_stats(js, self.county_id, workers=self.workers)
            except Exception as exc:  # e.g. the durable being recreated: the next look tries again
                self.latest = None
                log.debug("stream stats not read", extra={"error": repr(exc)})
            await asyncio.sleep(self.every)


class Polling:
    """The polling of one connection; `unsubscribe` ends it (the consumer's responder contract)."""

    def __init__(self, watch: StreamWatch, task: asyncio.Future[None]) -> None:
        self.watch = watch
        self.task = task

    async def unsubscribe(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.watch.latest = None


GAUGES = {
    "bytes": ("tongxin_stream_bytes", "Bytes the events stream holds"),
    "max_bytes": ("tongxin_stream_max_bytes", "Bytes the events stream may hold (its max_bytes)"),
    "messages": ("tongxin_stream_messages", "Messages the events stream holds"),
    "max_messages": ("tongxin_stream_max_messages", "Messages the events stream may hold (-1: no limit)"),
    "pending": (
        "tongxin_county_ingest_pending",
        "Messages of the stream the county's consumer has not delivered",
    ),
    "ack_pending": (
        "tongxin_county_ingest_ack_pending",
        "Messages delivered to the county's ingest and not yet committed and acknowledged",
    ),
}
"""The `StreamStats` field each gauge reads, its metric name and help."""


class StreamCollector(Collector):
    """The watch's latest look as gauges (none while the ingest is not connected)."""

    def __init__(self, watch: StreamWatch) -> None:
        self.watch = watch

    def collect(self) -> Iterable[Metric]:
        stats = self.watch.latest
        if stats is None:
            return
        for field, (name, doc) in GAUGES.items():
            labels = ["stream"] if name.startswith("tongxin_stream_") else []
            family = GaugeMetricFamily(name, doc, labels=labels)
            family.add_metric([STREAM] if labels else [], getattr(stats, field))
            yield family
