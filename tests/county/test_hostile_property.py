"""Issue 13's property: random and mutated messages published straight onto the events subjects
while a real node's good events flow through a real nats-server, ingested by a county on SQLite
and then on PostgreSQL from the same stream.

For every example: the county stays up and no batch ever fails (so each bad message is
quarantined on its first delivery, never by the poison path); every delivered message has one
outcome, and what is archived, held or quarantined has one row each (a held one may move on to the
archive or to quarantine when its gap fills); the good node's archive equals its log exactly;
digest = rebuild's digest; and both databases end with the same archive, the same quarantine
(reason, node, seq, in stream order) and the same digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from services.branch_node.config import NodeConfig, NodeDir
from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.processor import Ingestor
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared import envelope
from shared.catalog import EVENT_TYPES
from shared.transport import connect
from shared.wire import events_subject
from tests.conftest import postgres_database
from tests.county.helpers import craft, record
from tests.samples import fund, mixed
from tongxin.natsd import EmbeddedNats, ensure_stream

_counties = itertools.count(1)

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
timestamps = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.tuples(
        st.integers(0, 9999), st.integers(0, 19), st.integers(0, 39), st.integers(0, 29), st.integers(0, 69)
    ).map(lambda p: f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}T{p[3]:02d}:{p[4]:02d}:00.000000Z"),
    st.text(max_size=30),
)
seqs = st.one_of(st.integers(1, 40), st.integers(2**31, 2**70), st.integers(-5, 0))


class Watching(Ingestor):
    """An ingestor that counts the batches whose transaction failed (the poison path's start)."""

    failures = 0

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        try:
            return super().process(batch)
        except Exception:
            self.failures += 1
            raise


def _raw_mutation(draw: Any, good: bytes) -> bytes:
    """The wire bytes of a good envelope, broken as bytes: flipped, cut, spliced, or replaced."""
    kind = draw(st.sampled_from(["flip", "cut", "splice", "garbage", "deep"]))
    if kind == "flip":
        i = draw(st.integers(0, len(good) - 1))
        return good[:i] + bytes([good[i] ^ draw(st.integers(1, 255))]) + good[i + 1 :]
    if kind == "cut":
        return good[: draw(st.integers(0, len(good) - 1))]
    if kind == "splice":
        i = draw(st.integers(0, len(good)))
        return good[:i] + bytes(draw(st.binary(min_size=1, max_size=40))) + good[i:]
    if kind == "garbage":
        return bytes(draw(st.binary(max_size=200)))
    depth = draw(st.integers(100, 20_000))
    tree = json.loads(good)
    tree["payload"] = "DEEP"
    text = json.dumps(tree, separators=(",", ":")).replace('"DEEP"', "[" * depth + "]" * depth)
    return text.encode()


def _field_mutation(draw: Any, good: bytes) -> bytes:
    """A good envelope with one field (of the envelope or its payload) set to a random JSON value
    or removed, not signed again."""
    tree = json.loads(good)
    target = tree["payload"] if draw(st.booleans()) and isinstance(tree["payload"], dict) else tree
    key = draw(st.sampled_from(sorted(target)))
    if draw(st.booleans()):
        del target[key]
    else:
        target[key] = draw(json_value)
    return json.dumps(tree, ensure_ascii=draw(st.booleans()), separators=(",", ":")).encode()


def _signed(draw: Any, mallory: NodeService, head: str) -> bytes:
    """A correctly hashed and signed envelope of an enrolled node with hostile contents."""
    base = draw(st.sampled_from([fund(1, org="mallory"), mixed(1)[0]]))
    payload: dict[str, Any] = dict(base["payload"])
    if draw(st.booleans()):
        payload[draw(st.sampled_from(sorted(payload)))] = draw(json_value)
    return craft(
        mallory.signer,
        node_id="mallory",
        seq=draw(seqs),
        type_=draw(st.sampled_from(sorted(EVENT_TYPES)) | st.text(min_size=1, max_size=70)),
        payload=payload,
        prev_hash=draw(st.sampled_from([head, envelope.GENESIS_HASH, "ab" * 32])),
        schema=draw(st.sampled_from([1, 1, 2, 99, 2**63, 10**30])),
        occurred_at=draw(timestamps),
    )


@st.composite
def hostile(draw: Any, goods: list[bytes], mallory: NodeService, head: str) -> list[tuple[str, bytes]]:
    """(node whose subject it is published on, bytes) for each hostile message."""
    out = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["raw", "field", "signed"]))
        if kind == "signed":
            out.append(("mallory", _signed(draw, mallory, head)))
            continue
        good = draw(st.sampled_from(goods))
        mutate = _raw_mutation if kind == "raw" else _field_mutation
        out.append((draw(st.sampled_from(["dongguan", "mallory", "nobody"])), mutate(draw, good)))
    return out


async def _publish(url: str, county: str, messages: list[tuple[str, bytes]]) -> None:
    nc = await connect(url)
    try:
        js = nc.jetstream()
        for node_id, data in messages:
            await js.publish(events_subject(county, node_id), data)
    finally:
        await nc.close()


def _node(root: Path, node_id: str, county: str, url: str) -> NodeService:
    path = root / node_id
    NodeDir(path).create(NodeConfig(node_id=node_id, county_id=county, nats_url=url))
    return NodeService(path)


def _engine(url: str, nodes: list[NodeService]) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        for node in nodes:
            enrol(conn, node.node_id, node.first_key.public_key_hex)
    return engine


def _ingest(engine: Engine, url: str, county: str) -> Watching:
    ingestor = Watching(engine, county)
    consumer = Consumer(ingestor, url, ack_wait=2.0, max_failures=2, verify_workers=0)
    asyncio.run(asyncio.wait_for(consumer.run(asyncio.Event(), once=True), 120))
    return ingestor


def _state(engine: Engine, good: NodeService) -> dict[str, Any]:
    a, q = t.archive.c, t.quarantine.c
    with engine.connect() as conn:
        live = digest(conn)
        archive = conn.execute(select(a.node_id, a.seq, a.hash).order_by(a.node_id, a.seq)).all()
        quarantined = conn.execute(select(q.reason, q.node_id, q.seq).order_by(q.id)).all()
        rows = sum(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.archive, t.quarantine, t.held)
        )
    with engine.begin() as conn:
        rebuild(conn)
        rebuilt = digest(conn)
    mine = [(s, h) for n, s, h in archive if n == good.node_id]
    return {
        "digest": live,
        "rebuilt": rebuilt,
        "archive": [tuple(r) for r in archive],
        "quarantine": [tuple(r) for r in quarantined],
        "rows": rows,
        "exact": mine == [(s, h) for s, h, _ in good.envelopes.rows_after(0, 10**9)],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    nats = EmbeddedNats(tmp_path_factory.mktemp("nats"), open_access=True)
    nats.start()
    try:
        asyncio.run(ensure_stream(nats.url))
        yield nats
    finally:
        nats.stop()


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # an example takes seconds: no shrinking
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_hostile_messages_among_good_ones_are_refused_on_first_sight_alike_on_both_databases(
    server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    county = f"p{next(_counties)}"
    root = tmp_path_factory.mktemp(county)
    good = _node(root, "dongguan", county, server.url)
    mallory = _node(root, "mallory", county, server.url)
    try:
        goods = record(good, mixed(8))
        head = envelope.decode(record(mallory, [fund(0, org="mallory")])[0]).hash
        bad = list(dict.fromkeys(data.draw(hostile(goods, mallory, head), label="hostile")))
        asyncio.run(Forwarder(mallory, server.url).run(asyncio.Event(), once=True))
        rng = random.Random(data.draw(st.integers(0, 2**32), label="interleaving"))
        first, rest = bad[: len(bad) // 2], bad[len(bad) // 2 :]
        asyncio.run(_publish(server.url, county, first))
        asyncio.run(Forwarder(good, server.url).run(asyncio.Event(), once=True))
        asyncio.run(_publish(server.url, county, rng.sample(rest, len(rest))))
        record(good, mixed(4, start=8))
        asyncio.run(Forwarder(good, server.url).run(asyncio.Event(), once=True))
        delivered = 8 + 4 + 1 + len(bad)

        states = []
        for url in (f"sqlite:///{root / 'county.db'}", None):
            with postgres_database() if url is None else contextlib.nullcontext(url) as db_url:
                engine = _engine(db_url, [good, mallory])
                try:
                    ingestor = _ingest(engine, server.url, county)
                    assert ingestor.failures == 0, "a batch failed: a message took the poison path"
                    assert sum(ingestor.counts.values()) == delivered, "one outcome per message, once"
                    state = _state(engine, good)
                    kept = ingestor.counts[Outcome.ARCHIVED] + ingestor.counts[Outcome.QUARANTINED]
                    kept += ingestor.counts[Outcome.HELD]
                    assert state["rows"] == kept, "each message archived, held or quarantined once"
                    assert "processing_error" not in {r for r, _, _ in state["quarantine"]}
                    assert state["exact"], "the good node's archive is its log exactly"
                    assert state["digest"] == state["rebuilt"]
                    states.append(state)
                finally:
                    engine.dispose()
        sqlite_state, pg_state = states
        assert sqlite_state == pg_state, "SQLite and PostgreSQL end alike"
    finally:
        good.close()
        mallory.close()
