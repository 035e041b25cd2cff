"""Hostile messages published straight onto the events subjects of a real nats-server while real
nodes forward good traffic (SQLite and PostgreSQL): a `Status` header is no server status, every
value out of bounds is quarantined on its first delivery with its own reason, and what nothing can
foresee logs one line per delivery, without a traceback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.branch_node.service import NodeService
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.durable import consumer_name
from services.county.ingest.incoming import Incoming, Outcome
from services.county.ingest.processor import Ingestor
from shared import envelope
from shared.signing import Signer
from shared.transport import connect
from shared.wire import STREAM
from tests.county.helpers import count, enrol_nodes, open_node, record
from tests.county.test_ingest_nats import digests, forward_all
from tests.samples import fund, id_number, registration
from tongxin.natsd import EmbeddedNats

SUBJECT = "tongxin.jx.events.{}"


def forge(signer: Signer, **fields: Any) -> bytes:
    """A hashed and signed envelope of `dongguan` with any body fields (a fund by default)."""
    at = "2026-03-01T02:00:00.000000Z"
    body: dict[str, Any] = {
        "node_id": "dongguan",
        "seq": 2,
        "event_id": str(uuid.uuid4()),
        "type": "fund.received",
        "schema": 1,
        "occurred_at": at,
        "recorded_at": at,
        "payload": fund(1)["payload"] | {"type": "fund.received", "note": ""},
        "prev_hash": envelope.GENESIS_HASH,
    } | fields
    digest = hashlib.sha256(envelope.canonical(body))
    wire = body | {"hash": digest.hexdigest(), "sig": signer.sign(digest.digest()).hex()}
    return envelope.canonical(wire | {"key_id": signer.key_id})


async def _publish(url: str, items: list[tuple[str, bytes, dict[str, str] | None]]) -> None:
    nc = await connect(url)
    try:
        js = nc.jetstream()
        for subject, data, headers in items:
            await js.publish(subject, data, headers=headers)
    finally:
        await nc.close()


def publish(url: str, items: list[tuple[str, bytes, dict[str, str] | None]]) -> None:
    asyncio.run(_publish(url, items))


def ingest_within(consumer: Consumer, seconds: float = 90.0) -> Consumer:
    """`county ingest --once` in this process; fails the test if it has not finished in time."""

    async def run() -> None:
        await asyncio.wait_for(consumer.run(asyncio.Event(), once=True), seconds)

    try:
        asyncio.run(run())
    except TimeoutError:
        pytest.fail(
            f"ingest --once still running after {seconds} s (last error: {consumer.state.last_error})"
        )
    return consumer


def redelivered(url: str) -> int:
    async def ask() -> int:
        nc = await connect(url)
        try:
            info = await nc.jetstream().consumer_info(STREAM, consumer_name("jx"))
        finally:
            await nc.close()
        return int(info.num_redelivered or 0)

    return asyncio.run(ask())


def quarantined(engine: Engine) -> list[tuple[str, str | None, int | None, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.quarantine.c.reason, t.quarantine.c.node_id, t.quarantine.c.seq, t.quarantine.c.detail
            ).order_by(t.quarantine.c.id)
        ).all()
    return [tuple(r) for r in rows]


HOSTILE_HEADERS: list[dict[str, str]] = [
    {"Status": "409", "Description": "Consumer Deleted"},
    {"Status": "100", "Description": "Idle Heartbeat"},
    {"Status": "404", "Description": "No Messages"},
    {"Status": "408", "Description": "Request Timeout"},
    {"Status": "503"},
    {"Status": "409", "Description": "Leadership Change", "Nats-Pending-Messages": "7"},
    {"Nats-Msg-Id": "x" * 2_000},
    {"Nats-Msg-Id": "huadu:1:" + "0" * 64},
    {"Nats-Expected-Stream": STREAM},
    {"X-Junk": "j" * 60_000},
    {"Nats-Consumer-Stalled": "$JS.FC.TONGXIN.x.y", "Nats-Last-Consumer": "1", "Nats-Last-Stream": "1"},
]


def test_status_headers_and_other_hostile_headers_are_messages_like_any_other(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    """Issue 13 case 2: `Status: 409` made the puller fail and reconnect on every delivery and
    `Status: 100` was ignored forever, so `ingest --once` never finished."""
    url = nats_server.url
    dongguan, huadu = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    enrol_nodes(county_engine, dongguan, huadu)
    record(dongguan, [registration(i) for i in range(40)])
    forward_all(url, dongguan)
    # huadu's own envelopes, each published by hand under a hostile header set: all valid
    valid = record(huadu, [fund(i, org="huadu") for i in range(len(HOSTILE_HEADERS))])
    garbage = [b""] + [b"\x00garbage %d" % i for i in range(1, len(HOSTILE_HEADERS))]
    items: list[tuple[str, bytes, dict[str, str] | None]] = []
    for headers, data, junk in zip(HOSTILE_HEADERS, valid, garbage, strict=True):
        own = headers | (
            {"Nats-Msg-Id": headers["Nats-Msg-Id"] + ":junk"} if "Nats-Msg-Id" in headers else {}
        )
        items += [(SUBJECT.format("huadu"), data, headers), (SUBJECT.format("dongguan"), junk, own)]
    publish(url, items)
    record(dongguan, [fund(i) for i in range(40)])
    forward_all(url, dongguan)

    consumer = ingest_within(Consumer(Ingestor(county_engine, "jx"), url, ack_wait=5.0))

    assert consumer.ingestor.counts[Outcome.ARCHIVED] == 80 + len(valid)
    with county_engine.connect() as conn:
        per_node = dict(conn.execute(select(t.node_heads.c.node_id, t.node_heads.c.last_seq)).all())
    assert per_node == {"dongguan": 80, "huadu": len(valid)}
    assert count(county_engine, t.archive) == 80 + len(valid) and count(county_engine, t.held) == 0
    rows = quarantined(county_engine)
    assert [(reason, node) for reason, node, _, _ in rows] == [("malformed", "dongguan")] * len(garbage)
    live, rebuilt = digests(county_engine)
    assert live == rebuilt


def _bad_messages(node: NodeService, head: str) -> dict[str, tuple[bytes, str, str]]:
    """name → (message, reason, what its detail names), every one signed by an enrolled node
    unless said otherwise, each the next seq after `head`."""
    s = node.signer
    now = datetime.now(UTC)
    ahead = envelope.format_time(now + timedelta(days=2))
    member = registration(1)["payload"] | {"type": "member.registered", "member_id": "ab" * 16}
    member["personal"] = member["personal"] | {"name": "张\x00三", "id_number": id_number(1)}
    note = fund(1)["payload"] | {"type": "fund.received"}

    def signed(**fields: Any) -> bytes:
        return forge(s, prev_hash=head, **fields)

    deep = b'{"node_id":"dongguan","seq":2,"payload":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    return {
        "nested 10,000 levels, unsigned": (deep, "too_deep", "nested deeper than 32 levels"),
        "30 February": (signed(occurred_at="2026-02-30T00:00:00.000000Z"), "invalid", "occurred_at"),
        "seq 2^63": (signed(seq=2**63), "seq_out_of_range", "seq"),
        "seq 10^30": (signed(seq=10**30), "seq_out_of_range", "seq"),
        "a node clock in 9999": (
            signed(occurred_at="9999-01-01T00:00:00.000000Z", recorded_at="9999-01-01T00:00:00.000000Z"),
            "clock_skew",
            "recorded_at",
        ),
        "a node clock two days ahead": (
            signed(occurred_at=ahead, recorded_at=ahead),
            "clock_skew",
            "recorded_at",
        ),
        "schema 10^30": (signed(schema=10**30), "invalid", "schema"),
        "NUL in a member's name": (
            signed(type="member.registered", payload=member),
            "invalid",
            "payload.personal.name",
        ),
        "DEL and C1 in a note": (signed(payload=note | {"note": "a\x7fb\x85c"}), "invalid", "payload.note"),
        "a newline after an org id": (
            signed(payload=note | {"org_id": "dongguan\n"}),
            "invalid",
            "payload.org_id",
        ),
        "invalid UTF-8 in a string": (
            signed().replace(b'"dongguan"', b'"dong\xffguan"', 1),
            "malformed",
            "UTF-8",
        ),
        "a newline after the event id": (signed(event_id=str(uuid.uuid4()) + "\n"), "malformed", "event_id"),
    }


def test_values_out_of_bounds_are_quarantined_on_their_first_delivery_with_their_reason(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13 cases 3 and 4: each of these reached quarantine only as `processing_error` after
    ten deliveries (RecursionError, ValueError, OverflowError / NumericValueOutOfRange), the clock
    of 9999 and the NUL (on SQLite) were archived, and PostgreSQL then held the node's chain."""
    url = nats_server.url
    node = open_node(tmp_path, "dongguan")
    enrol_nodes(county_engine, node)
    first = record(node, [fund(i) for i in range(1)])
    forward_all(url, node)
    bad = _bad_messages(node, envelope.decode(first[0]).hash)
    publish(url, [(SUBJECT.format("dongguan"), data, None) for data, _, _ in bad.values()])
    record(node, [registration(i) for i in range(30)])
    forward_all(url, node)

    caplog.set_level(logging.WARNING, logger="tongxin")
    consumer = ingest_within(Consumer(Ingestor(county_engine, "jx"), url, ack_wait=10.0, max_failures=2))

    rows = quarantined(county_engine)
    assert [reason for reason, _, _, _ in rows] == [reason for _, reason, _ in bad.values()]
    for (name, (_, reason, named)), (_, node_id, seq, detail) in zip(bad.items(), rows, strict=True):
        assert named in detail, (name, detail)
        assert node_id == "dongguan", name
        unplaced = reason in ("too_deep", "seq_out_of_range", "malformed")  # no seq to keep
        assert seq == (None if unplaced else 2), (name, seq)
    assert redelivered(url) == 0, "every message was settled on its first delivery"
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert count(county_engine, t.archive) == 31 and count(county_engine, t.held) == 0
    assert consumer.ingestor.counts[Outcome.ARCHIVED] == 31
    live, rebuilt = digests(county_engine)
    assert live == rebuilt


class FailsOnSeq3(Ingestor):
    """What no check foresees: processing seq 3 raises, every time (a bug)."""

    def process(self, batch: list[Incoming]) -> list[Outcome]:
        if any(b'"seq":3,' in item.data for item in batch):
            raise RuntimeError("cannot process seq 3")
        return super().process(batch)


def test_the_unforeseen_logs_one_line_per_delivery_without_a_traceback(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    node = open_node(tmp_path, "dongguan")
    record(node, [fund(i) for i in range(5)])
    enrol_nodes(county_engine, node)
    forward_all(nats_server.url, node)
    caplog.set_level(logging.INFO, logger="tongxin")
    consumer = Consumer(FailsOnSeq3(county_engine, "jx"), nats_server.url, ack_wait=0.5, max_failures=3)
    ingest_within(consumer)
    assert [r for _, _, _, r in quarantined(county_engine) if "cannot process seq 3" in r]
    failures = [r for r in caplog.records if r.name.startswith("tongxin") and r.levelno >= logging.WARNING]
    assert len(failures) == 3, [r.getMessage() for r in failures]  # one per delivery of seq 3
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in failures)
    assert [getattr(r, "quarantined", None) for r in failures] == [0, 0, 1]


def test_a_node_clock_ahead_is_retried_under_a_larger_max_clock_ahead(
    county_engine: Engine, tmp_path: Path
) -> None:
    """`clock_skew` is the county's named setting: after checking the node, the operator retries
    with a larger `--max-clock-ahead` and the envelope is archived."""
    node = open_node(tmp_path, "dongguan")
    enrol_nodes(county_engine, node)
    ahead = envelope.format_time(datetime.now(UTC) + timedelta(hours=30))
    data = forge(node.signer, seq=1, occurred_at=ahead, recorded_at=ahead)
    item = Incoming(data, SUBJECT.format("dongguan"))
    assert Ingestor(county_engine, "jx").process([item]) == [Outcome.QUARANTINED]
    assert Ingestor(county_engine, "jx").retry_quarantine() == (0, 1)
    assert Ingestor(county_engine, "jx", max_clock_ahead=timedelta(days=2)).retry_quarantine() == (1, 0)
    assert count(county_engine, t.archive) == 1
