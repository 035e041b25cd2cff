"""The county's durable pull consumer: its config, and where it resumes (`position`).

Created to start after the ingest position (not from the stream's first message), and
recreated from there when its ack floor is past what the archive holds: after a restore of the
county database, or when another client acknowledged messages on the county's durable.

A consumer holds no position of its own (the database does, per partition), so the durables of
another layout of the ingest — `county-<county>-w<w>of<V>` for another V, or the one ingest's
`county-<county>` beside workers — are deleted when the ingest starts (`prune_consumers`): an
old one would otherwise keep its state and show as a backlog nobody reads.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from services.county.ingest import position
from services.county.ingest.partitions import Share
from shared.wire import STREAM, events_filter

log = logging.getLogger("tongxin.county.ingest")


def consumer_name(county_id: str) -> str:
    return f"county-{county_id}"


def consumer_config(
    county_id: str, ack_wait: float, start_after: int = 0, share: tuple[str, list[str]] | None = None
) -> ConsumerConfig:
    """The durable's config; with `start_after`, it delivers from the stream seq after it; with
    `share` (a worker's consumer name and subjects), that worker's durable."""
    start: dict[str, Any] = {"deliver_policy": DeliverPolicy.ALL}
    if start_after > 0:
        start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": start_after + 1}
    filters: dict[str, Any] = {"filter_subject": events_filter(county_id)}
    if share is not None:
        filters = {"filter_subjects": share[1]}
    return ConsumerConfig(
        durable_name=share[0] if share is not None else consumer_name(county_id),
        **filters,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=20_000,
        **start,
    )


async def ensure_consumer(
    js: Any, engine: Engine, county_id: str, ack_wait: float, share: Share | None = None
) -> str:
    """Make sure the county's durable (or worker `share`'s) exists and resumes from what the
    archive holds; returns what was done ("kept", "created", "recreated", or "idle": the worker
    owns no enrolled node, so it has no consumer)."""
    name = share.consumer_name(county_id) if share is not None else consumer_name(county_id)
    keys = share.position_keys() if share is not None else [STREAM]
    held = _held(engine, keys)
    last = int((await js.stream_info(STREAM)).state.last_seq or 0)
    if held > last:  # the stream was lost and made again: its seqs started over
        log.warning(
            "the events stream holds fewer messages than the archive read from it (lost and made again?): "
            "reading it from its start",
            extra={"stream_seq": held, "stream_last_seq": last},
        )
        for key in {*keys, STREAM}:
            position.reset(engine, key)
        held = 0
    subjects = share.subjects(engine, county_id) if share is not None else []
    own = (name, subjects) if share is not None else None
    if share is not None and not subjects:
        return "idle"
    try:
        info = await js.consumer_info(STREAM, name)
    except NotFoundError:
        await js.add_consumer(STREAM, config=consumer_config(county_id, ack_wait, held, own))
        if held:
            log.warning(
                "the county's consumer was missing: created to resume after the archive's position",
                extra={"consumer": name, "stream_seq": held},
            )
        return "created"
    if share is not None and set(info.config.filter_subjects or []) != set(subjects):
        added = set(subjects) - set(info.config.filter_subjects or [])
        start = min([held, *[await _first_seq(js, s) - 1 for s in added]])
        log.info("a worker's nodes changed: its consumer is recreated", extra={"consumer": name})
        await js.delete_consumer(STREAM, name)
        await js.add_consumer(STREAM, config=consumer_config(county_id, ack_wait, max(start, 0), own))
        return "recreated"
    floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
    if floor <= held:
        return "kept"
    log.warning(
        "the consumer acknowledged messages the archive does not hold (database restored, or another "
        "client on the county's durable): re-reading the stream after the archive's position",
        extra={"consumer": name, "ack_floor": floor, "stream_seq": held},
    )
    await js.delete_consumer(STREAM, name)
    await js.add_consumer(STREAM, config=consumer_config(county_id, ack_wait, held, own))
    return "recreated"


def _held(engine: Engine, keys: list[str]) -> int:
    """Where a consumer resumes: the lowest of its positions; a partition's position not yet
    written is the one-process ingest's (a move from one ingest to several re-reads nothing)."""
    single = position.read_from(engine, STREAM)
    found = [position.read_from(engine, k) for k in keys]
    return min(f if f else single for f in found)


async def _first_seq(js: Any, subject: str) -> int:
    """The stream seq of the first message on `subject` (past the last one if there is none)."""
    try:
        return int((await js.get_msg(STREAM, seq=1, subject=subject, next=True)).seq)
    except NotFoundError:
        return int((await js.stream_info(STREAM)).state.last_seq or 0) + 1


async def prune_consumers(js: Any, county_id: str, share: Share | None) -> list[str]:
    """Delete the county's durables of another layout than `share`'s (worker 0 of W does it; the
    one ingest, `share` None, deletes every worker's); returns their names. Safe: the positions
    are in the database, and a process of the old layout still running (against docs/operations.md
    §17.5) makes its consumer again from them when its next pull fails, re-reading at worst
    messages already archived (duplicates, ignored)."""
    if share is not None and share.worker != 0:
        return []
    one = consumer_name(county_id)
    layout = re.compile(rf"{re.escape(one)}-w(\d+)of(\d+)")
    gone = []
    for info in await js.consumers_info(STREAM):
        found = layout.fullmatch(info.name)
        if share is None:
            stale = found is not None
        else:
            stale = info.name == one or (found is not None and int(found[2]) != share.workers)
        if not stale:
            continue
        try:
            await js.delete_consumer(STREAM, info.name)
        except NotFoundError:  # another process deleted it first
            continue
        log.info("a consumer of another ingest layout deleted", extra={"consumer": info.name})
        gone.append(info.name)
    return gone
