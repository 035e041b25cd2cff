"""Gaps the county holds in a node's chain, and its requests that the node re-send them.

A gap is a run of missing seqs between a node's archived head and the first envelope held
behind it, or — once the consumer has nothing pending — between the head and the last envelope
of that node still in the stream (a tail the transport lost). Held for longer than the grace
period, the county asks the node to re-send it (a signed `ResendRequest` on the node's requests
subject), again after twice as long while it stays open, up to `MAX_DELAY`. Each gap is logged
once when it is asked for and once when it closes, and kept in the `repairs` table, so health
and audit see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from services.county.db import tables as t
from shared import envelope, repair
from shared.errors import FieldError
from shared.signing import Signer
from shared.wire import STREAM, events_subject, requests_subject

log = logging.getLogger("tongxin.county.repair")

MAX_DELAY = 600.0
"""The longest wait between two requests for one gap (seconds)."""

Publish = Callable[[str, bytes], Awaitable[None]]


@dataclass
class _Gap:
    from_seq: int
    to_seq: int
    found: float
    row_id: int | None = None
    next_at: float = 0.0
    delay: float = 0.0


class GapWatcher:
    """Finds gaps every `every` seconds and asks for those older than `grace`."""

    def __init__(self, engine: Engine, county_id: str, signer: Signer, grace: float) -> None:
        self.engine = engine
        self.county_id = county_id
        self.signer = signer
        self.grace = grace
        self.every = max(min(grace / 3, 5.0), 0.2)
        self.open: dict[str, _Gap] = {}
        self.requests = 0
        """Re-send requests published so far."""
        self._rows: dict[str, int] | None = None
        """Gaps left open in `repairs` by an earlier run, by node (read at the first round)."""
        self.owns: Callable[[str], bool] = lambda _node_id: True
        """The nodes this watcher asks for (an ingest worker: those of its share, whose heads
        it alone moves; another worker's backlog is no gap)."""

    async def run(
        self, stop: asyncio.Event, publish: Publish, js: Any, drained: Callable[[], Awaitable[bool]]
    ) -> None:
        while not stop.is_set():
            try:
                tails = await self._tails(js) if await drained() else {}
                await self.check(publish, tails)
            except Exception as exc:  # the next round tries again; ingest goes on regardless
                log.warning("gap check failed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)

    async def check(self, publish: Publish, tails: dict[str, int] | None = None) -> None:
        """One round: find the gaps, ask for the due ones, close the filled ones."""
        found = await asyncio.to_thread(self.find, tails or {})
        now = time.monotonic()
        if self._rows is None:
            self._rows = await asyncio.to_thread(self._open_rows)
            for node_id, row_id in self._rows.items():
                if node_id in found:
                    self.open[node_id] = _Gap(*found[node_id], now, row_id=row_id, delay=self.grace)
                else:
                    await asyncio.to_thread(self._closed, node_id, _Gap(0, 0, now, row_id=row_id))
        for node_id, gap in list(self.open.items()):
            if found.get(node_id, (0, 0))[0] != gap.from_seq:
                await asyncio.to_thread(self._closed, node_id, gap)
                del self.open[node_id]
        for node_id, (first, last) in found.items():
            gap = self.open.setdefault(node_id, _Gap(first, last, now, delay=self.grace))
            gap.to_seq = max(gap.to_seq, last)
            if now - gap.found >= self.grace and now >= gap.next_at:
                await self._ask(publish, node_id, gap)
                gap.next_at, gap.delay = now + gap.delay, min(gap.delay * 2, MAX_DELAY)

    def find(self, tails: dict[str, int]) -> dict[str, tuple[int, int]]:
        """Each node's first missing range: (from_seq, to_seq)."""
        h = t.held.c
        with self.engine.connect() as conn:
            heads = dict(conn.execute(select(t.node_heads.c.node_id, t.node_heads.c.last_seq)).all())
            first_held = dict(conn.execute(select(h.node_id, func.min(h.seq)).group_by(h.node_id)).all())
        out: dict[str, tuple[int, int]] = {}
        for node_id in {n for n in set(first_held) | set(tails) if self.owns(n)}:
            head = int(heads.get(node_id, 0))
            upto = int(first_held[node_id]) - 1 if node_id in first_held else int(tails[node_id])
            if upto > head:
                out[node_id] = (head + 1, min(upto, head + repair.MAX_RESEND))
        return out

    async def _tails(self, js: Any) -> dict[str, int]:
        """The seq of each enrolled node's last envelope still in the stream."""
        with self.engine.connect() as conn:
            nodes = [n for n in conn.execute(select(t.nodes.c.node_id)).scalars() if self.owns(n)]
        tails: dict[str, int] = {}
        for node_id in nodes:
            try:
                msg = await js.get_last_msg(STREAM, events_subject(self.county_id, node_id))
                env = envelope.decode(msg.data)
            except (FieldError, Exception):  # none there, or not an envelope: nothing to learn
                continue
            if env.node_id == node_id:
                tails[node_id] = env.seq
        return tails

    async def _ask(self, publish: Publish, node_id: str, gap: _Gap) -> None:
        request = repair.sign(
            repair.ResendRequest(
                county_id=self.county_id,
                node_id=node_id,
                from_seq=gap.from_seq,
                to_seq=gap.to_seq,
                at=repair.now_text(),
            ),
            self.signer,
        )
        await publish(requests_subject(self.county_id, node_id), repair.encode(request))
        self.requests += 1
        first = gap.row_id is None
        gap.row_id = await asyncio.to_thread(self._record, node_id, gap)
        if first:
            log.warning(
                "a gap in a node's chain: asked the node to re-send it",
                extra={"node_id": node_id, "from_seq": gap.from_seq, "to_seq": gap.to_seq},
            )

    def _record(self, node_id: str, gap: _Gap) -> int:
        now = repair.now_text()
        r = t.repairs
        with self.engine.begin() as conn:
            if gap.row_id is None:
                row = {"node_id": node_id, "from_seq": gap.from_seq, "to_seq": gap.to_seq, "found_at": now}
                inserted = conn.execute(r.insert().values(**row, requested_at=now, requests=1))
                return int(inserted.inserted_primary_key[0])  # type: ignore[index]
            conn.execute(
                r.update()
                .where(r.c.id == gap.row_id)
                .values(to_seq=gap.to_seq, requested_at=now, requests=r.c.requests + 1)
            )
            return gap.row_id

    def _open_rows(self) -> dict[str, int]:
        r = t.repairs.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(r.node_id, func.max(r.id)).where(r.resolved_at.is_(None)).group_by(r.node_id)
            )
            return {node_id: int(row_id) for node_id, row_id in rows if self.owns(node_id)}

    def _closed(self, node_id: str, gap: _Gap) -> None:
        if gap.row_id is None:
            return  # closed within the grace period: the transport's own redelivery did it
        with self.engine.begin() as conn:
            conn.execute(
                t.repairs.update()
                .where(t.repairs.c.node_id == node_id, t.repairs.c.resolved_at.is_(None))
                .values(resolved_at=repair.now_text())
            )
        log.info("a gap in a node's chain is filled", extra={"node_id": node_id, "from_seq": gap.from_seq})
