"""Connecting to NATS: one bounded attempt, errors reported once instead of retried forever."""

from __future__ import annotations

import logging
from typing import Any

import nats

from shared.nats_identity import ANONYMOUS, NatsIdentity

log = logging.getLogger("tongxin.nats")


async def _quiet(exc: Exception) -> None:
    log.debug("nats client error", extra={"error": repr(exc)})


async def connect(
    url: str, *, identity: NatsIdentity = ANONYMOUS, timeout: float = 2.0, **options: Any
) -> Any:
    """Connect once as `identity` (no silent reconnect loop); the caller owns retrying and backoff."""
    return await nats.connect(
        url,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        error_cb=_quiet,
        **identity.options(),
        **options,
    )
