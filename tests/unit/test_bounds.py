"""The bounds of shared/bounds.py as the node and the county both apply them: nesting depth on the
bytes, seq, schema and time ranges in the envelope, text without control characters in the catalog,
ids matched whole; and the reasons docs/envelope.md §11 lists are the ones ingest gives."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import envelope
from shared.bounds import MAX_DEPTH, MAX_SEQ, TooDeepError, check_depth
from shared.catalog import check_times, convert_payload, decode_payload
from shared.errors import FieldError
from tests.samples import fund

ROOT = Path(__file__).resolve().parents[2]
REFUSED = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0xD800, 0xDFFF]]


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_depth_is_counted_on_the_bytes_outside_strings() -> None:
    check_depth(nested(MAX_DEPTH))
    with pytest.raises(TooDeepError, match="nested deeper than 32 levels"):
        check_depth(nested(MAX_DEPTH + 1))
    with pytest.raises(TooDeepError):
        check_depth(b'{"a":' * 20 + b"[" * 13 + b"]" * 13 + b"}" * 20)
    brackets_in_strings = b'{"a":"' + b"[{" * 500 + b'\\"]]"' + b',"b":["\\\\",' + b'"[[[["' * 40 + b"]}"
    check_depth(brackets_in_strings)
    check_depth(brackets_in_strings.decode())
    with pytest.raises(TooDeepError):
        check_depth(nested(100_000).decode(), "body")


def deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def wire(**fields: Any) -> bytes:
    """An envelope's wire form with any fields (not signed: decode looks at shape and bounds)."""
    at = "2026-03-01T02:00:00.000000Z"
    base = {
        "node_id": "dongguan",
        "seq": 1,
        "event_id": str(uuid.uuid4()),
        "type": "fund.received",
        "schema": 1,
        "occurred_at": at,
        "recorded_at": at,
        "payload": {"type": "fund.received"},
        "prev_hash": "0" * 64,
        "hash": "ab" * 32,
        "sig": "cd" * 64,
        "key_id": "ef" * 8,
    }
    return envelope.canonical(base | fields)


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"seq": MAX_SEQ + 1}, envelope.SeqOutOfRangeError, "seq"),
        ({"seq": 10**30}, envelope.SeqOutOfRangeError, "seq"),
        ({"schema": 2**31}, envelope.BoundsError, "schema"),
        ({"occurred_at": "2026-02-30T00:00:00.000000Z"}, envelope.BoundsError, "occurred_at"),
        ({"occurred_at": "2026-03-01T24:00:00.000000Z"}, envelope.BoundsError, "occurred_at"),
        ({"occurred_at": "1899-12-31T23:59:59.999999Z"}, envelope.BoundsError, "occurred_at"),
        ({"recorded_at": "9999-01-01T00:00:00.000000Z"}, envelope.ClockOutOfRangeError, "recorded_at"),
        ({"recorded_at": "0001-01-01T00:00:00.000000Z"}, envelope.ClockOutOfRangeError, "recorded_at"),
        ({"payload": {"type": "fund.received", "x": deep_list(MAX_DEPTH - 1)}}, TooDeepError, ""),
        ({"node_id": "dongguan\n"}, FieldError, "node_id"),
        ({"event_id": str(uuid.uuid4()) + "\n"}, FieldError, "event_id"),
        ({"hash": "ab" * 32 + "\n"}, FieldError, "hash"),
        ({"sig": "cd" * 64 + "\n"}, FieldError, "sig"),
        ({"occurred_at": "2026-03-01T02:00:00.000000Z\n"}, FieldError, "occurred_at"),
        ({"occurred_at": "２026-03-01T02:00:00.000000Z"}, FieldError, "occurred_at"),
    ],
)
def test_an_envelope_beyond_its_bounds_does_not_decode(
    fields: dict[str, Any], error: type, field: str
) -> None:
    with pytest.raises(error) as caught:
        envelope.decode(wire(**fields))
    assert isinstance(caught.value, FieldError) and caught.value.field == field


@pytest.mark.parametrize("where", ["node_id", "payload"])
def test_invalid_utf8_in_a_string_is_a_field_error_not_a_unicode_error(where: str) -> None:
    """msgspec raises UnicodeDecodeError for it, which check() did not catch: the poison path."""
    data = wire().replace(b'"dongguan"', b'"dong\xffguan"') if where == "node_id" else wire()
    if where == "payload":
        data = data.replace(b'{"type":"fund.received"}', b'{"type":"fund.received","note":"\xc3"}')
        with pytest.raises(FieldError) as caught:
            decode_payload("fund.received", bytes(envelope.decode(data).payload))
        assert caught.value.field == "payload"
    else:
        with pytest.raises(FieldError, match="not UTF-8"):
            envelope.decode(data)


def test_the_edges_of_the_bounds_decode() -> None:
    env = envelope.decode(wire(seq=MAX_SEQ, schema=2**31 - 1, occurred_at="1900-01-01T00:00:00.000000Z"))
    assert env.seq == MAX_SEQ and env.occurred == datetime(1900, 1, 1, tzinfo=UTC)


def test_a_time_is_written_with_four_year_digits_whatever_the_year() -> None:
    """strftime's %Y wrote year 1 as `1-01-01…`, an envelope no one could decode again."""
    assert envelope.format_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000000Z"
    assert envelope.format_time(datetime(2026, 3, 5, 2, 30, tzinfo=UTC)) == "2026-03-05T02:30:00.000000Z"


def test_times_and_past_dates_outside_1900_to_2200_are_refused_by_the_catalog() -> None:
    body = convert_payload("fund.received", fund(1)["payload"])
    now = datetime.now(UTC)
    with pytest.raises(FieldError, match="not between 1900-01-01 and 2200-01-01") as caught:
        check_times(body, datetime(1850, 1, 1, tzinfo=UTC), now)
    assert caught.value.field == "occurred_at"
    registered = decode_payload(
        "member.registered",
        msgspec.json.encode(
            {
                "type": "member.registered",
                "member_id": "ab" * 16,
                "personal": {"name": "张三", "id_number": "11010519491231002X"},
                "home_branch": "v1",
                "flowed_out_on": "1850-01-01",
            }
        ),
    )
    with pytest.raises(FieldError, match="before 1900-01-01") as caught:
        check_times(registered, now, now)
    assert caught.value.field == "payload.flowed_out_on"


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_a_control_character_in_text_is_refused_at_the_node_and_at_the_county_alike(char: str) -> None:
    note = f"活动{char}经费"
    with pytest.raises(FieldError, match="must not contain control characters") as at_node:
        convert_payload("fund.received", fund(1)["payload"] | {"note": note})
    assert at_node.value.field == "payload.note"
    if not "\ud800" <= char <= "\udfff":  # a lone surrogate has no UTF-8 form to send
        raw = msgspec.json.encode(fund(1)["payload"] | {"type": "fund.received", "note": note})
        with pytest.raises(FieldError, match="must not contain control characters") as at_county:
            decode_payload("fund.received", raw)
        assert at_county.value.field == "payload.note"


TEXT = st.text(st.characters(exclude_characters=REFUSED, exclude_categories=("Cs",)), max_size=200)


@given(TEXT)
def test_any_other_text_is_kept_as_it_was_typed(note: str) -> None:
    raw = msgspec.json.encode(fund(1)["payload"] | {"type": "fund.received", "note": note})
    typed = convert_payload("fund.received", fund(1)["payload"] | {"note": note})
    assert decode_payload("fund.received", raw) == typed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("org_id", "dongguan\n"),
        ("member_id", "ab" * 16 + "\n"),
    ],
)
def test_ids_are_matched_as_whole_strings(field: str, value: str) -> None:
    type_ = "member.returned" if field == "member_id" else "fund.received"
    payload = fund(1)["payload"] | {"member_id": "ab" * 16, "note": ""} | {field: value}
    with pytest.raises(FieldError) as caught:
        convert_payload(type_, payload)
    assert caught.value.field == f"payload.{field}"


def reasons_in_code() -> set[str]:
    ingest = ROOT / "services" / "county" / "ingest"
    text = "\n".join(p.read_text(encoding="utf-8") for p in ingest.glob("*.py"))
    return set(re.findall(r'(?:RefusedError|reject)\(\s*"([a-z_]+)"', text))


def test_the_reasons_docs_list_are_the_reasons_ingest_gives() -> None:
    doc = (ROOT / "docs" / "envelope.md").read_text(encoding="utf-8")
    table = doc[doc.index("| reason | the message |") :]
    table = table[: table.index("\n\n")]
    listed = {m for row in table.splitlines()[2:] for m in re.findall(r"^\| `([a-z_]+)`", row)}
    assert listed == reasons_in_code()
