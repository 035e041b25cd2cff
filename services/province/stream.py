"""TONGXIN_PROVINCE: the province's stream, one JetStream source per county's events stream.

It has no subjects of its own — nothing publishes to it; JetStream copies each county's events
into it from the county's own domain (`$JS.<county domain>.API`, delivering on
`province.deliver.<county>`: what the county's account on the province's server exports),
filtered to that county's subjects (`tongxin.<county>.events.*`), so a message keeps its
subject and with it the county and node it came from. A source resumes after the last message
it copied when its link comes back: that, and the province's idempotent ingest (on node, seq,
hash), is why a cut link loses and doubles nothing. Like the county's stream it refuses deletes
and purges.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterable
from typing import Any

from nats.js.api import (
    ExternalStream,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

from shared.streams import STARTING, stream_config
from shared.wire import STREAM, events_filter
from tongxin.natsd_province import county_domain, deliver_prefix

PROVINCE_STREAM = "TONGXIN_PROVINCE"
PROVINCE_MAX_BYTES = 16 * 1024**3
"""16 GiB (JetStream refuses a limit past the store it has room for); what the province has ingested it
keeps in its own databases, so the stream needs to hold only what it has not read yet."""


def county_source(county_id: str, domain: str | None = None) -> StreamSource:
    """The source of one county: its TONGXIN stream in its domain, its events only."""
    api = f"$JS.{domain or county_domain(county_id)}.API"
    external = ExternalStream(api=api, deliver=deliver_prefix(county_id))
    return StreamSource(name=STREAM, filter_subject=events_filter(county_id), external=external)


def province_config(
    county_ids: Iterable[str], replicas: int = 1, max_bytes: int = PROVINCE_MAX_BYTES
) -> StreamConfig:
    """A county's events stream's limits and protections, with no subjects of its own: one source
    per county."""
    return dataclasses.replace(
        stream_config(replicas, max_bytes),
        name=PROVINCE_STREAM,
        subjects=[],
        sources=[county_source(c) for c in sorted(set(county_ids))],
    )


async def ensure_province_stream(
    js: Any, county_ids: Iterable[str], timeout: float = 15.0, max_bytes: int = PROVINCE_MAX_BYTES
) -> None:
    """Create the province's stream or bring it to these counties' sources (a county added later
    is one more source; one left out stops being copied, what was copied stays)."""
    config = province_config(county_ids, max_bytes=max_bytes)
    deadline = time.monotonic() + timeout
    while True:
        try:
            try:
                before = await js.stream_info(PROVINCE_STREAM)
            except NotFoundError:
                await js.add_stream(config)
            else:
                config.num_replicas = before.config.num_replicas
                await js.update_stream(config)
            return
        except STARTING:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
