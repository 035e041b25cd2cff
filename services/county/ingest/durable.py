"""The county's durable pull consumer: its config, and where it resumes (`position`).

Created to start after the ingest position (not from the stream's first message), and
recreated from there when its ack floor is past what the archive holds: after a restore of the
county database, or when another client acknowledged messages on the county's durable.
"""

from __future__ import annotations

import logging
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from services.county.ingest import position
from shared.wire import STREAM, events_filter

log = logging.getLogger("tongxin.county.ingest")


def consumer_name(county_id: str) -> str:
    return f"county-{county_id}"


def consumer_config(county_id: str, ack_wait: float, start_after: int = 0) -> ConsumerConfig:
    """The durable's config; with `start_after`, it delivers from the stream seq after it."""
    start: dict[str, Any] = {"deliver_policy": DeliverPolicy.ALL}
    if start_after > 0:
        start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": start_after + 1}
    return ConsumerConfig(
        durable_name=consumer_name(county_id),
        filter_subject=events_filter(county_id),
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=20_000,
        **start,
    )


async def ensure_consumer(js: Any, engine: Engine, county_id: str, ack_wait: float) -> str:
    """Make sure the county's durable exists and resumes from what the archive holds; returns
    what was done ("kept", "created", "recreated")."""
    name = consumer_name(county_id)
    held = position.read_from(engine, STREAM)
    try:
        info = await js.consumer_info(STREAM, name)
    except NotFoundError:
        await js.add_consumer(STREAM, config=consumer_config(county_id, ack_wait, held))
        if held:
            log.warning(
                "the county's consumer was missing: created to resume after the archive's position",
                extra={"consumer": name, "stream_seq": held},
            )
        return "created"
    floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
    if floor <= held:
        return "kept"
    log.warning(
        "the consumer acknowledged messages the archive does not hold (database restored, or another "
        "client on the county's durable): re-reading the stream after the archive's position",
        extra={"consumer": name, "ack_floor": floor, "stream_seq": held},
    )
    await js.delete_consumer(STREAM, name)
    await js.add_consumer(STREAM, config=consumer_config(county_id, ack_wait, held))
    return "recreated"
