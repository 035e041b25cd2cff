"""A node's own archived envelopes, handed back on request (`tongxin node recover`).

A node restored from a backup lacks what it recorded after the backup and the county holds; it
asks on its archive subject with a query signed by its own key (any key the county has on record
for it and not revoked), and gets its envelopes a page at a time. Only the node itself can ask: a
query that is unsigned, signed by another key or a revoked one, stale, or on another node's
subject gets an error, not data.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Engine, select

from services.county.db import tables as t
from shared import repair
from shared.errors import FieldError
from shared.signing import Verifier
from shared.wire import archive_filter, node_of_archive_subject

log = logging.getLogger("tongxin.county.repair")


async def serve_archive(nc: Any, engine: Engine, county_id: str) -> Any:
    """Answer archive queries until the returned subscription is unsubscribed."""

    async def handle(msg: Any) -> None:
        if not msg.reply:
            return
        page = await asyncio.to_thread(answer, engine, county_id, msg.subject, msg.data)
        await msg.respond(repair.encode(page))

    return await nc.subscribe(archive_filter(county_id), queue=f"county-{county_id}-archive", cb=handle)


def answer(engine: Engine, county_id: str, subject: str, data: bytes) -> repair.ArchivePage:
    """The page a query asks for, or an error naming why it is refused."""
    node_id = node_of_archive_subject(subject, county_id)
    try:
        query = repair.decode_query(data)
    except FieldError as exc:
        return repair.ArchivePage(error=str(exc))
    if node_id is None or query.node_id != node_id:
        return repair.ArchivePage(error="node_id: the query names another node than its subject")
    if not query.fresh():
        return repair.ArchivePage(error="at: the query is not from the last minutes")
    with engine.connect() as conn:
        found = conn.execute(
            select(t.node_keys.c.public_key, t.node_keys.c.revoked_from_seq).where(
                t.node_keys.c.node_id == node_id, t.node_keys.c.key_id == query.key_id
            )
        ).first()
        if found is not None and found.revoked_from_seq is not None:
            log.warning("an archive query signed by a revoked key was refused", extra={"node_id": node_id})
            return repair.ArchivePage(error=f"sig: key {query.key_id} of this node is revoked")
        if found is None or not query.signed_by(Verifier.from_hex(found.public_key)):
            log.warning(
                "an archive query not signed by the node's key was refused", extra={"node_id": node_id}
            )
            return repair.ArchivePage(error="sig: not signed by a key of this node")
        head = conn.execute(
            select(t.node_heads.c.last_seq).where(t.node_heads.c.node_id == node_id)
        ).scalar_one_or_none()
        rows = conn.execute(
            select(t.archive.c.envelope)
            .where(t.archive.c.node_id == node_id, t.archive.c.seq > query.after)
            .order_by(t.archive.c.seq)
            .limit(query.limit)
        ).scalars()
        envelopes: list[str] = []
        size = 0
        for text in rows:
            size += len(text.encode())
            if envelopes and size > repair.PAGE_BYTES:
                break
            envelopes.append(text)
    return repair.ArchivePage(head=int(head or 0), envelopes=envelopes)
