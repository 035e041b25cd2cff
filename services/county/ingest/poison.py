"""A batch that failed: its messages one by one; one that fails alone again and again is
quarantined (`processing_error`), never dropped."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.county.ingest import position, quarantine
from services.county.ingest.checks import RefusedError
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor

log = logging.getLogger("tongxin.county.ingest")


def quarantine_poison(ingestor: Ingestor, item: Incoming, error: str, max_failures: int) -> None:
    """Keep `item` in quarantine with `error`, and move the ingest's positions past it."""
    err = RefusedError("processing_error", f"failed {max_failures} deliveries: {error}")
    with ingestor.engine.begin() as conn:
        quarantine.keep(conn, item, err)
        for key in ingestor.positions:
            position.advance(conn, key, item.stream_seq)


def brief(exc: BaseException, limit: int = 300) -> str:
    """An error for a log line: its repr, cut (a database error's repr can carry a whole batch)."""
    text = repr(exc)
    return text if len(text) <= limit else text[:limit] + "…"


async def one_by_one(
    ingestor: Ingestor, msgs: list[Any], items: list[Incoming], error: Exception, max_failures: int
) -> None:
    """Each message of a failed batch in a transaction of its own: what fails again alone is
    left for redelivery, and quarantined (`processing_error`) at its `max_failures`th delivery.
    Every check that can foresee a bad message runs before the transaction (`checks`), so only
    the unforeseen comes here: one log line per failed batch says what became of it, with no
    traceback (the same error on every redelivery would bury the log)."""
    failed: list[str] = []
    poisoned = 0
    for m, item in zip(msgs, items, strict=True):
        try:
            await asyncio.to_thread(ingestor.process, [item])
        except Exception as exc:
            delivered = m.metadata.num_delivered
            failed.append(f"stream seq {item.stream_seq} (delivery {delivered}): {brief(exc)}")
            if delivered < max_failures:
                continue  # not acked: JetStream redelivers after ack_wait
            await asyncio.to_thread(quarantine_poison, ingestor, item, repr(exc), max_failures)
            poisoned += 1
        await m.ack()
    log.warning(
        "batch failed; its messages were processed one by one",
        extra={
            "error": brief(error),
            "messages": len(msgs),
            "failed_again": len(failed),
            "quarantined": poisoned,
            "first_failures": "; ".join(failed[:3]),
        },
    )
