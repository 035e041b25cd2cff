"""The province's ingest batch by batch (messages as JetStream hands them over, no server): acks
only after the commit, a failing message alone retried then quarantined, a stranger's left alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from services.county.db import tables as t
from services.county.ingest.incoming import Incoming
from services.province.ingest import ProvinceIngest
from services.province.store import ProvinceStore
from shared.wire import events_subject
from tests.county.helpers import open_node, record
from tests.samples import fund


@dataclass
class Delivered:
    """A JetStream delivery as ingest reads it: bytes, subject, stream seq, delivery count, ack."""

    data: bytes
    subject: str
    seq: int
    delivered: int = 1
    acked: bool = False

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(sequence=SimpleNamespace(stream=self.seq), num_delivered=self.delivered)

    async def ack(self) -> None:
        self.acked = True


def test_a_message_that_keeps_failing_is_retried_alone_then_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ProvinceStore(f"sqlite:///{tmp_path}/p/{{county}}.db", ("anhua",))
    try:
        node = open_node(tmp_path, "dongguan")
        store.enrol("anhua", "dongguan", node.first_key.public_key_hex)
        good, bad = record(node, [fund(1), fund(2)])
        node.close()
        ingestor = store.ingestor("anhua")
        assert ingestor is not None
        process = ingestor.process

        def failing(items: list[Incoming]) -> list[Any]:
            if any(i.data == bad for i in items):
                raise RuntimeError("disk full")
            return process(items)

        monkeypatch.setattr(ingestor, "process", failing)
        ingest = ProvinceIngest(store, "nats://127.0.0.1:1", max_failures=3)
        subject = events_subject("anhua", "dongguan")
        first = [Delivered(good, subject, 1), Delivered(bad, subject, 2)]
        stranger = Delivered(good, events_subject("nowhere", "dongguan"), 3)
        asyncio.run(ingest.handle([*first, stranger]))
        assert [m.acked for m in first] == [True, False], "the good one committed and acked alone"
        assert not stranger.acked, "a county not of this province: left, never acked"
        again = Delivered(bad, subject, 2, delivered=3)
        asyncio.run(ingest.handle([again]))
        assert again.acked
        with store.engines["anhua"].connect() as conn:
            reasons = conn.execute(select(t.quarantine.c.reason)).scalars().all()
            archived = conn.execute(select(t.archive.c.seq)).scalars().all()
        assert reasons == ["processing_error"] and archived == [1]
        assert ingest.counts["archived"] == 1 and ingest.counts["quarantined"] == 1
    finally:
        store.close()
