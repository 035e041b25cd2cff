"""Connecting to NATS: one bounded attempt, errors reported once instead of retried forever.

Where NATS runs as a cluster, a client is given its servers as a list (`nats://a:4222,nats://b:4222`
in a `--nats` value or a node's config, or a list): the attempt tries them in turn, so a server
that is down only costs a refused connection."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import nats

from shared.nats_identity import ANONYMOUS, NatsIdentity

log = logging.getLogger("tongxin.nats")


async def _quiet(exc: Exception) -> None:
    log.debug("nats client error", extra={"error": repr(exc)})


def server_list(urls: str | Sequence[str]) -> list[str]:
    """The servers of a URL, a comma-separated list of URLs, or a list of either."""
    parts = [urls] if isinstance(urls, str) else list(urls)
    found = [u.strip() for part in parts for u in part.split(",") if u.strip()]
    if not found:
        raise ValueError("no NATS server URL given")
    return found


def shown(urls: str | Sequence[str]) -> str:
    """The servers as one comma-separated string (for logs, messages and a node's config)."""
    return ",".join(server_list(urls))


async def connect(
    url: str | Sequence[str], *, identity: NatsIdentity = ANONYMOUS, timeout: float = 2.0, **options: Any
) -> Any:
    """Connect once as `identity` to the first of `url`'s servers that answers (no silent
    reconnect loop); the caller owns retrying and backoff."""
    return await nats.connect(
        servers=server_list(url),
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        error_cb=_quiet,
        **identity.options(),
        **options,
    )
