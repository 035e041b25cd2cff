"""Every error of a payload at once (`shared.catalog.every_error`), with msgspec's own rules.

The reference is msgspec itself: a payload with one field broken gives msgspec's first (and
only) error; a payload with every field broken must give exactly those errors, one per field,
in the fields' order, for every event type of the catalog and so every kind of field.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from shared.catalog import EVENT_TYPES, convert_payload, decode_payload, time_errors
from shared.catalog.member import MemberRegistered
from shared.errors import FieldError, FieldErrors, refuse
from tests.unit.test_catalog import OCCURRED, RECORDED, SAMPLES, sample

WRONG: list[list[Any]] = [[]]
"""A value no field of the catalog accepts: not text, number, date, enum, object nor a list of
any of these (a list's first item is a list)."""


def fields_of(type_: str) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(EVENT_TYPES[type_])]


def refusals(type_: str, payload: dict[str, Any], strict: bool = True) -> list[tuple[str, str]]:
    with pytest.raises(FieldError) as caught:
        convert_payload(type_, payload, strict=strict)
    return [(e.field, e.message) for e in caught.value.all()]


@pytest.mark.parametrize("strict", [True, False], ids=["json", "csv"])
@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_every_broken_field_is_refused_at_once_as_msgspec_refuses_it_alone(type_: str, strict: bool) -> None:
    alone = []
    for name in fields_of(type_):
        (first,) = refusals(type_, sample(type_, **{name: WRONG}), strict)[:1]
        alone.append(first)
    every = refusals(type_, {name: WRONG for name in fields_of(type_)}, strict)
    assert every == alone
    assert len(every) == len(fields_of(type_)) >= 1


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_an_empty_payload_names_every_required_field(type_: str) -> None:
    required = [f"payload.{f.encode_name}" for f in msgspec.structs.fields(EVENT_TYPES[type_]) if f.required]
    if not required:
        return
    assert refusals(type_, {}) == [(field, "required field is missing") for field in required]


def test_five_bad_fields_of_a_registration_are_five_errors_and_the_wire_still_stops_at_one() -> None:
    payload = sample(
        "member.registered",
        personal={"name": "张三", "id_number": "431126196001010001", "phone": "12"},
        home_branch="上塘村",
        host_org="东莞商会",
        flowed_out_on="2019-13-01",
    )
    assert [field for field, _ in refusals("member.registered", payload)] == [
        "payload.personal.id_number",
        "payload.personal.phone",
        "payload.home_branch",
        "payload.host_org",
        "payload.flowed_out_on",
    ]
    with pytest.raises(FieldError) as caught:  # the county's validation: its first error, its reason
        decode_payload("member.registered", msgspec.json.encode({**payload, "type": "member.registered"}))
    assert caught.value.all() == [caught.value] and caught.value.field == "payload.personal.id_number"


def test_cross_field_rules_give_every_problem_once_the_fields_read() -> None:
    personal = {"phone": "12"}  # no name, no ID number, a bad phone
    assert refusals("member.registered", sample("member.registered", personal=personal)) == [
        ("payload.personal.name", "required field is missing"),
        ("payload.personal.id_number", "required field is missing"),
        ("payload.personal.phone", "must be an 11-digit mobile number starting with 1"),
    ]
    org = {"org_id": "x", "name": "某站", "kind": "outstation", "parent_id": "x"}
    assert refusals("org.registered", org) == [
        ("payload.parent_id", "an organisation cannot be its own parent"),
        ("payload.mode", "required for an outstation"),
        ("payload.host_location", "required for an outstation"),
    ]
    with pytest.raises(msgspec.ValidationError, match="cannot be its own parent"):  # the first, as before
        msgspec.convert({**org, "type": "org.registered"}, EVENT_TYPES["org.registered"])


def test_a_cross_field_rule_waits_for_the_fields_it_reads() -> None:
    """A donation of nothing to an organisation that is no id: the id first, then the amounts."""
    assert refusals("donation.made", {"org_id": "X", "cause": "poverty"}) == [
        ("payload.org_id", "Expected `str` matching regex '^[a-z0-9][a-z0-9_-]{0,63}$(?!\\\\n)'")
    ]
    assert refusals("donation.made", {"org_id": "x", "cause": "poverty"}) == [
        ("payload.cash_fen", "a donation needs cash_fen or in_kind_fen above zero")
    ]


def test_a_list_names_its_first_bad_item() -> None:
    payload = sample("orglife.held", attendees=["a" * 32, "nobody", "b" * 32, 7])
    assert [field for field, _ in refusals("orglife.held", payload)] == ["payload.attendees.1"]
    assert refusals("orglife.held", sample("orglife.held", attendees=[]))[0][0] == "payload.attendees"


def test_time_errors_are_every_bad_time_and_check_times_keeps_the_first() -> None:
    body = convert_payload("member.registered", sample("member.registered", flowed_out_on="1899-12-31"))
    assert isinstance(body, MemberRegistered)
    future = RECORDED.replace(year=RECORDED.year + 1)
    assert [e.field for e in time_errors(body, future, RECORDED)] == ["occurred_at", "payload.flowed_out_on"]
    assert time_errors(body, OCCURRED, RECORDED)[0].message == "1899-12-31 is before 1900-01-01"
    assert time_errors(None, future, RECORDED)[0].field == "occurred_at"


def test_field_errors_read_as_their_first_and_list_every_one() -> None:
    a, b = FieldError("x", "bad"), FieldError("y.z", "worse")
    both = FieldErrors([a, FieldErrors([b])])
    assert (both.field, both.message) == ("x", "bad")
    assert both.all() == [a, b] and str(both) == "x: bad; y.z: worse"
    assert [e.field for e in both.within("payload").all()] == ["payload.x", "payload.y.z"]
    refuse([])
    with pytest.raises(FieldError) as one:
        refuse([a])
    assert one.value is a
    with pytest.raises(FieldErrors):
        refuse([a, b])
