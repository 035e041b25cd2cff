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
    """Connect once as `identity` (no silent reconnect loop); the caller owns retrying and backoff.
    `url` may list several servers of a cluster, comma-separated: the first that answers is used."""
    servers = [u.strip() for u in url.split(",") if u.strip()]
    return await nats.connect(
        servers if len(servers) > 1 else url,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        error_cb=_quiet,
        **identity.options(),
        **options,
    )
