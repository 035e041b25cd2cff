"""The province's durable consumer, and where it resumes after a province database is restored.

Every county database at the province keeps a position in TONGXIN_PROVINCE (`PROVINCE_STREAM`
in its `ingest_position`): everything of the stream up to it that is this county's is committed
there. The ingest moves every county's position up to the durable's ack floor when it is idle
(or every `SETTLE_EVERY` seconds): the ack floor means committed (each part is acked after its
commit). At start, the lowest position is where the durable must resume from; a durable whose ack
floor is past it — a county database restored from a backup, or a new county's empty one — is
made again from there, and what comes again is counted once (ingest is idempotent). The same as
the county's ingest does (`services.county.ingest.durable`), with one position per county.
"""

from __future__ import annotations

import logging
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.county.ingest import position
from services.province.store import ProvinceStore
from services.province.stream import PROVINCE_STREAM

log = logging.getLogger("tongxin.province.ingest")

DURABLE = "province"
SETTLE_EVERY = 30.0


def consumer_config(ack_wait: float, start_after: int = 0) -> ConsumerConfig:
    start: dict[str, Any] = {"deliver_policy": DeliverPolicy.ALL}
    if start_after > 0:
        start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": start_after + 1}
    return ConsumerConfig(
        durable_name=DURABLE,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=-1,
        max_ack_pending=20_000,
        **start,
    )


def held(store: ProvinceStore) -> int:
    """The lowest county position: all of the stream up to it is committed in every county's."""
    return min(position.read_from(e, PROVINCE_STREAM) for e in store.engines.values())


async def ensure_durable(js: Any, store: ProvinceStore, ack_wait: float) -> str:
    """Make sure the durable exists and resumes from what every county database holds; returns
    what was done ("kept", "created", "recreated")."""
    start = held(store)
    last = int((await js.stream_info(PROVINCE_STREAM)).state.last_seq or 0)
    if start > last:  # the stream was lost and made again: its seqs started over
        log.warning("the province's stream holds less than its databases read: reading it from its start")
        for engine in store.engines.values():
            position.reset(engine, PROVINCE_STREAM)
        start = 0
    try:
        info = await js.consumer_info(PROVINCE_STREAM, DURABLE)
    except NotFoundError:
        await js.add_consumer(PROVINCE_STREAM, config=consumer_config(ack_wait, start))
        return "created"
    floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
    if floor <= start:
        return "kept"
    log.warning(
        "the durable acknowledged what a county database does not hold (restored, or a new county): "
        "re-reading the stream after the lowest position",
        extra={"ack_floor": floor, "stream_seq": start},
    )
    await js.delete_consumer(PROVINCE_STREAM, DURABLE)
    await js.add_consumer(PROVINCE_STREAM, config=consumer_config(ack_wait, start))
    return "recreated"


def settle(store: ProvinceStore, floor: int) -> None:
    """Every county's position moved up to the durable's ack floor (never back)."""
    for engine in store.engines.values():
        with engine.begin() as conn:
            position.advance(conn, PROVINCE_STREAM, floor)
