"""The node's repair decisions (`services.branch_node.repair`) and the repair messages' bounds and
signatures (`shared.repair`), without NATS: re-send only after the grace period, with a doubling
wait; only requests the county signed, just now, for this node; every field bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.branch_node.repair import MAX_DELAY, Repair
from shared import envelope, repair
from shared.errors import FieldError
from shared.signing import Signer, Verifier

COUNTY = Signer.from_seed_hex("c2" * 32)


def fresh_repair(grace: float = 10.0) -> Repair:
    return Repair("dongguan", "jx", Verifier(COUNTY.public_key), grace)


def test_nothing_is_re_sent_while_the_county_confirms_or_within_the_grace_period() -> None:
    r = fresh_repair()
    assert r.due(0.0, confirmed=5, sent=5) is None
    assert r.due(1.0, confirmed=5, sent=9) is None, "the clock starts"
    assert r.due(10.5, confirmed=7, sent=9) is None, "the receipt moved: the county is working on it"
    assert r.due(20.0, confirmed=7, sent=9) is None
    assert r.due(20.6, confirmed=7, sent=9) == (8, 9), "stood still for the grace period"
    assert r.due(21.0, confirmed=7, sent=9) is None
    assert r.due(40.5, confirmed=7, sent=9) is None, "then after twice as long"
    assert r.due(40.7, confirmed=7, sent=9) == (8, 9)
    assert r.counters.repairs == 2
    assert r.due(41.0, confirmed=9, sent=9) is None, "repaired: the incident is over"
    assert r.due(42.0, confirmed=9, sent=12) is None and r.due(52.1, confirmed=9, sent=12) == (10, 12)


def test_the_wait_between_re_sends_is_capped() -> None:
    r = fresh_repair(grace=1000.0)
    now, sent = 0.0, 0
    r.due(now, confirmed=0, sent=1)
    for _ in range(8):
        now += MAX_DELAY + 1
        assert r.due(now, confirmed=0, sent=1) == (1, 1)
        sent += 1
    assert sent == 8


def _request(from_seq: int, to_seq: int, **kw: object) -> bytes:
    fields = {
        "county_id": "jx",
        "node_id": "dongguan",
        "from_seq": from_seq,
        "to_seq": to_seq,
        "at": repair.now_text(),
    }
    signer = kw.pop("signer", COUNTY)
    req = repair.ResendRequest(**{**fields, **kw})  # type: ignore[arg-type]
    return repair.encode(repair.sign(req, signer))  # type: ignore[arg-type]


def test_a_signed_request_is_re_sent_at_once_and_merged_with_one_pending() -> None:
    r = fresh_repair()
    assert r.request(_request(3, 4)) and r.request(_request(8, 9))
    assert r.due(0.0, confirmed=2, sent=20) == (3, 9)
    assert r.counters.requests == 2
    assert r.request(_request(15, 40)) and r.due(1.0, confirmed=2, sent=20) == (15, 20), (
        "never past what was sent"
    )


def test_requests_not_from_the_county_just_now_for_this_node_are_refused() -> None:
    r = fresh_repair()
    stale = envelope.format_time(datetime.now(UTC) - timedelta(hours=1))
    assert not r.request(_request(1, 2, signer=Signer.generate())), "another key"
    assert not r.request(_request(1, 2, at=stale)), "a replayed copy"
    assert not r.request(_request(1, 2, node_id="huadu")), "another node's"
    assert not r.request(b'{"county_id":"jx"}'), "malformed"
    assert not r.request(_request(5, 2)), "backwards"
    assert r.due(0.0, confirmed=0, sent=10) is None and r.counters.requests == 0


def test_a_rollback_of_the_county_is_re_sent_at_once() -> None:
    r = fresh_repair()
    r.rolled_back(before=40, after=25)
    assert r.due(0.0, confirmed=25, sent=40) == (26, 40)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"node_id":"a","after":-1,"at":"2026-01-01T00:00:00.000000Z"}', "query.after"),
        (b'{"node_id":"a","after":0,"limit":5000,"at":"2026-01-01T00:00:00.000000Z"}', "query.limit"),
        (b'{"node_id":"a","after":0,"at":"yesterday"}', "query.at"),
        (b'{"node_id":"a","after":0,"at":"2026-01-01T00:00:00.000000Z","extra":1}', "query"),
        (b"[" * 100_000, "query"),
        (b" " * 2_000_000, "query"),
    ],
)
def test_archive_queries_are_bounded(data: bytes, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        repair.decode_query(data)
    assert caught.value.field.startswith(field)


def test_a_request_wider_than_the_bound_is_refused() -> None:
    with pytest.raises(FieldError, match="at most"):
        repair.decode_request(_request(1, repair.MAX_RESEND + 5))
