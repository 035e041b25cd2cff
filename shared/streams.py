"""The JetStream streams Tongxin runs on, created or updated idempotently.

TONGXIN carries events (file storage, an explicit duplicate window for Nats-Msg-Id). It
denies deleting messages and purging (one-way settings in JetStream: no client can take out what
the county has not read; deleting the whole stream is kept from clients by NATS permissions, and
what a lost stream held the nodes re-send), and has limits — bytes, age, message size — past which a
publish is refused (discard new), so a full stream makes the nodes keep their backlog rather
than JetStream dropping old envelopes. TONGXIN_RECEIPTS keeps the latest county receipt per node
(one message per subject). `ensure_streams_on` checks at start that the stream runs with these
settings and says what it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from typing import Any

import nats
from nats.js.api import DiscardPolicy, KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError, ServiceUnavailableError

from shared.nats_identity import ANONYMOUS, NatsIdentity
from shared.transport import connect
from shared.wire import (
    DUPLICATE_WINDOW_S,
    MAX_ENVELOPE_BYTES,
    MAX_REFS_BYTES,
    RECEIPTS_STREAM,
    RECEIPTS_SUBJECTS,
    REFS_BUCKET,
    STREAM,
    STREAM_MAX_AGE_S,
    STREAM_MAX_BYTES,
    STREAM_SUBJECTS,
)

log = logging.getLogger("tongxin.streams")

CHECKED = ("deny_delete", "deny_purge", "discard", "max_bytes", "max_age", "max_msg_size", "duplicate_window")
"""The events stream's settings that `ensure_streams_on` checks after creating or updating it."""
STARTING = (nats.errors.NoRespondersError, nats.errors.TimeoutError, ServiceUnavailableError)
"""What the JetStream API answers while it starts: no responders yet, or, on a cluster whose meta
leader is still being elected, a timeout or a 503; tried again until `ensure_streams_on`'s timeout
(creating and updating a stream are idempotent)."""


def stream_config(replicas: int = 1, max_bytes: int = STREAM_MAX_BYTES) -> StreamConfig:
    return StreamConfig(
        name=STREAM,
        subjects=STREAM_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.NEW,
        max_bytes=max_bytes,
        max_age=STREAM_MAX_AGE_S,
        max_msg_size=MAX_ENVELOPE_BYTES,
        duplicate_window=DUPLICATE_WINDOW_S,
        deny_delete=True,
        deny_purge=True,
        num_replicas=replicas,
    )


def receipts_config(replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=RECEIPTS_STREAM,
        subjects=RECEIPTS_SUBJECTS,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        max_msgs_per_subject=1,
        allow_direct=True,  # a node reads its own receipt by a direct get, the one JetStream API it may use
        num_replicas=replicas,
    )


async def ensure_streams_on(
    js: Any, replicas: int | None = None, timeout: float = 15.0, max_bytes: int = STREAM_MAX_BYTES
) -> None:
    """Create both streams, or bring existing ones to this config, over a JetStream context;
    raises RuntimeError if the events stream does not end up with the protections and limits.

    `replicas` None (the county at every start) keeps an existing stream's replicas, and makes a
    missing one with 1: the county never scales down the R3 streams an operator made on a cluster."""
    deadline = time.monotonic() + timeout
    for config in (stream_config(replicas or 1, max_bytes), receipts_config(replicas or 1)):
        while True:
            try:
                try:
                    before = await js.stream_info(config.name)
                except NotFoundError:
                    after = await js.add_stream(config)
                else:
                    kept = before.config.num_replicas if replicas is None else config.num_replicas
                    after = await js.update_stream(dataclasses.replace(config, num_replicas=kept))
                    if config.name == STREAM:
                        _changed(before.config, after.config)
                if config.name == STREAM:
                    _check(config, after.config)
                break
            except STARTING:  # JetStream still starting (a cluster still electing its leader)
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def _changed(before: StreamConfig, after: StreamConfig) -> None:
    changed = {
        k: (getattr(before, k), getattr(after, k)) for k in CHECKED if getattr(before, k) != getattr(after, k)
    }
    if changed:
        log.warning("the events stream's settings were changed", extra={"changed": str(changed)})


def _check(wanted: StreamConfig, got: StreamConfig) -> None:
    wrong = [k for k in CHECKED if getattr(wanted, k) != getattr(got, k)]
    if wrong:
        raise RuntimeError(f"stream {STREAM} runs without the settings it needs: {', '.join(wrong)}")


def refs_config(replicas: int = 1) -> KeyValueConfig:
    """The reference bucket (`shared.reference`): the newest value per key, direct gets allowed
    (the one way a node reads it, one key at a time), values bounded."""
    return KeyValueConfig(
        bucket=REFS_BUCKET,
        history=1,
        max_value_size=MAX_REFS_BYTES,
        max_bytes=256 * 1024 * 1024,
        storage=StorageType.FILE,
        replicas=replicas,
        direct=True,
    )


async def ensure_refs_bucket(js: Any, replicas: int | None = None) -> Any:
    """The reference bucket, created if missing (the county's publisher calls it on connecting),
    by default with as many replicas as the events stream has (3 on a cluster)."""
    try:
        return await js.key_value(REFS_BUCKET)
    except BucketNotFoundError:
        if replicas is None:
            try:
                replicas = int((await js.stream_info(STREAM)).config.num_replicas or 1)
            except NotFoundError:
                replicas = 1
        return await js.create_key_value(refs_config(replicas))


async def ensure_stream(
    url: str, replicas: int | None = None, timeout: float = 15.0, identity: NatsIdentity = ANONYMOUS
) -> None:
    """Connect to `url` as `identity` (the operator's or the county's) and ensure both streams
    (with `replicas`, e.g. 3 on a cluster; None keeps what an existing stream has)."""
    nc = await connect(url, identity=identity)
    try:
        await ensure_streams_on(nc.jetstream(), replicas, timeout)
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
