"""Reference data onto NATS: the county puts the tree and each node's co-managed members into the
KV bucket (`shared.reference`) whenever what they say changes — a `load-orgs`, a member
registered, moved or returned, a key that arrives, a node enrolled or rekeyed — and all of them
again every `REPUBLISH_S` (a bucket lost or restored is filled again).

Runs on each of the county's NATS connections (`Consumer.responders`), as a task that ends with
the connection, like the erasure notices. What changed is looked at every `CHECK_S` seconds by a
cheap fingerprint (a few aggregates); only when it moves are the documents built again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy import Engine, func, select

from services.county.db import tables as t
from services.county.keys import CountySigning
from services.county.personal.store import KeyStore
from services.county.personal.tables import member_keys
from services.county.reference import documents
from services.county.reference.register import version
from shared import reference, repair
from shared.streams import ensure_refs_bucket
from shared.wire import MAX_REFS_BYTES

log = logging.getLogger("tongxin.county.reference")

CHECK_S = 5.0
"""How often the fingerprint is read."""
REPUBLISH_S = 600.0
"""How often every document is put again, changed or not."""


def fingerprint(conn: Any) -> tuple[Any, ...]:
    """What moves when a document may have changed: the register, the projected heads, the keys."""
    heads = conn.execute(select(func.coalesce(func.sum(t.node_heads.c.last_seq), 0))).scalar_one()
    counts = [
        conn.execute(select(func.count()).select_from(tab)).scalar_one() for tab in (t.nodes, t.node_keys)
    ]
    keys = conn.execute(select(func.count()).select_from(member_keys)).scalar_one()
    return (version(conn), int(heads), *counts, int(keys))


class ReferencePublisher:
    """The reference documents of one connection; `unsubscribe()` ends them."""

    def __init__(
        self, nc: Any, engine: Engine, county_id: str, signing: CountySigning, store: KeyStore | None
    ) -> None:
        self.nc, self.engine, self.county_id, self.signing, self.store = nc, engine, county_id, signing, store
        self.published: dict[str, str] = {}
        """Key → digest of the content last put."""
        self.puts = 0
        self._task = asyncio.ensure_future(self._run())

    def _fingerprint(self) -> tuple[Any, ...]:
        with self.engine.connect() as conn:
            return fingerprint(conn)

    def _build(self) -> list[documents.Plain]:
        with self.engine.connect() as conn:
            return documents.build(conn, self.county_id, self.store)

    async def publish(self, kv: Any, everything: bool) -> int:
        """Put every document whose content changed (all with `everything`); returns how many."""
        at = repair.now_text()
        put = 0
        for plain in await asyncio.to_thread(self._build):
            digest = plain.digest
            if not everything and self.published.get(plain.key) == digest:
                continue
            doc = await asyncio.to_thread(documents.finish, plain, at)
            data = reference.encode(repair.sign(doc, self.signing.signer))
            if len(data) > MAX_REFS_BYTES:
                log.error("reference document too large; not published", extra={"key": plain.key})
                continue
            await kv.put(plain.key, data)
            self.published[plain.key] = digest
            put += 1
        self.puts += put
        return put

    async def _run(self) -> None:
        seen: tuple[Any, ...] | None = None
        last_all = 0.0
        kv = None
        said: str | None = None
        while True:
            try:
                if kv is None:
                    kv = await ensure_refs_bucket(self.nc.jetstream())
                now_print = await asyncio.to_thread(self._fingerprint)
                everything = time.monotonic() - last_all >= REPUBLISH_S
                if everything or now_print != seen:
                    put = await self.publish(kv, everything)
                    if put:
                        log.info("reference data published", extra={"documents": put})
                    seen = now_print
                    if everything:
                        last_all = time.monotonic()
                said = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection is going; the next one publishes again
                if repr(exc) != said:  # once per cause, not every few seconds
                    log.warning("reference data not published", extra={"error": repr(exc)})
                said, kv = repr(exc), None
            await asyncio.sleep(CHECK_S)

    async def unsubscribe(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def publish_references(
    consumer: Any, engine: Engine, county_id: str, signing: CountySigning, store: KeyStore | None
) -> None:
    """Publish reference data on each of `consumer`'s connections (`county serve`, `county ingest`)."""

    async def start(nc: Any) -> ReferencePublisher:
        return ReferencePublisher(nc, engine, county_id, signing, store)

    consumer.responders.append(start)
