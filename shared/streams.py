"""The JetStream streams Tongxin runs on, created or updated idempotently.

TONGXIN carries events (file storage, an explicit duplicate window for Nats-Msg-Id);
TONGXIN_RECEIPTS keeps the latest county receipt per node (one message per subject).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import nats
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.transport import connect
from shared.wire import DUPLICATE_WINDOW_S, RECEIPTS_STREAM, RECEIPTS_SUBJECTS, STREAM, STREAM_SUBJECTS


def stream_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_S,
        num_replicas=replicas,
    )


def receipts_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=RECEIPTS_STREAM,
        subjects=RECEIPTS_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_msgs_per_subject=1,
        num_replicas=replicas,
    )


async def ensure_streams_on(js: Any, replicas: int = 1, timeout: float = 15.0) -> None:
    """Create both streams, or bring existing ones to this config, over a JetStream context."""
    deadline = time.monotonic() + timeout
    for config in (stream_config(replicas), receipts_config(replicas)):
        while True:
            try:
                try:
                    await js.stream_info(config.name)
                except NotFoundError:
                    await js.add_stream(config)
                else:
                    await js.update_stream(config)
                break
            except nats.errors.NoRespondersError:  # JetStream still starting
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def ensure_stream(url: str, replicas: int = 1, timeout: float = 15.0) -> None:
    """Connect to `url` and ensure both streams (idempotent)."""
    nc = await connect(url)
    try:
        await ensure_streams_on(nc.jetstream(), replicas, timeout)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
