"""Erasure notices, county → node: each enrolled node is told, on its requests subject, which
members are erased (`shared.personal.ErasureNotice`, signed by the receipt key, fresh), so that
it destroys its keys of them. Sent at once when the list grows and again every `RESEND_S`
seconds to every node (a node offline meanwhile, or one that restored a backup holding keys,
learns when it is back): cheap, idempotent, and no node has to ask.

Runs on each of the county's NATS connections (`Consumer.responders`), as a task that ends with
the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import msgspec
from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.keys import CountySigning
from services.county.personal.erasure import erased_ids
from shared import repair
from shared.personal import MAX_ERASED_PER_NOTICE, ErasureNotice
from shared.wire import requests_subject

log = logging.getLogger("tongxin.county.erasure")

CHECK_S = 5.0
"""How often the list of erased members is looked at."""
RESEND_S = 300.0
"""How often every node is told the whole list again."""


def notices(
    county_id: str, signing: CountySigning, node_ids: list[str], erased: list[str]
) -> list[tuple[str, bytes]]:
    """(subject, message) of every notice: each node, the erased members in chunks."""
    out = []
    at = repair.now_text()
    for node_id in node_ids:
        for i in range(0, len(erased), MAX_ERASED_PER_NOTICE):
            unsigned = ErasureNotice(
                at=at, county_id=county_id, node_id=node_id, erased=erased[i : i + MAX_ERASED_PER_NOTICE]
            )
            signed = repair.sign(unsigned, signing.signer)
            out.append((requests_subject(county_id, node_id), msgspec.json.encode(signed)))
    return out


class NoticeSender:
    """The notices of one connection; `unsubscribe()` ends them (as a subscription would)."""

    def __init__(self, nc: Any, engine: Engine, county_id: str, signing: CountySigning) -> None:
        self.nc, self.engine, self.county_id, self.signing = nc, engine, county_id, signing
        self.sent = 0
        self._task = asyncio.ensure_future(self._run())

    def _read(self) -> tuple[list[str], list[str]]:
        with self.engine.connect() as conn:
            nodes = list(conn.execute(select(t.nodes.c.node_id).order_by(t.nodes.c.node_id)).scalars())
            return nodes, erased_ids(conn)

    async def _run(self) -> None:
        told: tuple[int, float] = (0, 0.0)  # how many erased, when every node was last told
        while True:
            try:
                nodes, erased = await asyncio.to_thread(self._read)
                due = len(erased) != told[0] or time.monotonic() - told[1] >= RESEND_S
                if erased and nodes and due:
                    for subject, data in notices(self.county_id, self.signing, nodes, erased):
                        await self.nc.publish(subject, data)
                        self.sent += 1
                    await self.nc.flush()
                    if len(erased) != told[0]:
                        log.info("erasure notices sent", extra={"erased": len(erased), "nodes": len(nodes)})
                    told = (len(erased), time.monotonic())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection is going; the next one sends again
                log.warning("erasure notices not sent", extra={"error": repr(exc)})
            await asyncio.sleep(CHECK_S)

    async def unsubscribe(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def send_notices(consumer: Any, engine: Engine, county_id: str, signing: CountySigning) -> None:
    """Send erasure notices on each of `consumer`'s connections (`county serve`, `county ingest`)."""

    async def start(nc: Any) -> NoticeSender:
        return NoticeSender(nc, engine, county_id, signing)

    consumer.responders.append(start)
