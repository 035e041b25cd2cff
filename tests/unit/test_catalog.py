"""The event catalog: every type round-trips through a signed envelope, and bad input is refused
with an error that names the offending field."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.catalog import (
    EVENT_TYPES,
    MAX_CLOCK_SKEW,
    FutureSchemaError,
    UnknownTypeError,
    check_times,
    convert_payload,
    decode_payload,
    event_class,
)
from shared.envelope import (
    GENESIS_HASH,
    canonical,
    decode,
    encode,
    hash_matches,
    sign,
    signature_valid,
)
from shared.errors import FieldError
from shared.signing import Signer, Verifier
from tests.ids import member_id, parse_county_secret

SECRET = bytes(range(0x40, 0x60))
OTHER_SECRET = bytes(range(0x60, 0x80))
SIGNER = Signer.from_seed_hex(bytes(range(1, 33)).hex())

# Valid 18-digit resident ID numbers (GB 11643 check digits, real birth dates).
ID_ZHANG = "43072119900101123X"
ID_LI = "43072119850615002X"
ID_WANG = "430721197803120455"
ID_ZHAO = "430721200109090078"

M_ZHANG = member_id(SECRET, ID_ZHANG)
M_LI = member_id(SECRET, ID_LI)
M_WANG = member_id(SECRET, ID_WANG)

SAMPLES: dict[str, dict[str, Any]] = {
    "org.registered": {
        "org_id": "dongguan",
        "name": "驻东莞流动党员党委",
        "kind": "outstation",
        "parent_id": "county",
        "host_location": "广东省东莞市",
        "mode": "service_station",
    },
    "org.secretary_appointed": {"org_id": "dongguan", "name": "张三", "member_id": M_ZHANG},
    "org.liaison_assigned": {
        "org_id": "dongguan",
        "leader": "县委副书记",
        "office": "县委组织部",
        "guidance_every_months": 1,
        "lesson_every_months": 3,
    },
    "org.venue_opened": {
        "org_id": "dongguan",
        "venue_id": "dongguan-venue-1",
        "name": "东莞流动党员之家",
        "kind": "activity_venue",
        "obtained": "enterprise_hosted",
        "area_m2": 120,
    },
    "member.registered": {
        "member_id": M_ZHANG,
        "personal": {"name": "张三", "id_number": ID_ZHANG, "phone": "13800138000"},
        "home_branch": "shanxia-village",
        "outstation": "dongguan",
        "host_location": "广东省东莞市长安镇",
        "host_org": "changan-host",
        "occupation": "模具工",
        "flowed_out_on": "2024-02-18",
    },
    "member.moved": {
        "member_id": M_ZHANG,
        "outstation": "huadu",
        "host_location": "广东省广州市花都区",
        "host_org": "shiling-host",
    },
    "member.returned": {"member_id": M_ZHANG, "note": "返乡创业"},
    "member.contact_lost": {"member_id": M_LI, "last_contact_on": "2025-11-02", "note": "电话停机"},
    "member.contact_restored": {"member_id": M_LI, "note": "已重新联系"},
    "member.transferred_out": {"member_id": M_WANG, "to_org": "深圳市某公司党支部"},
    "member.details_updated": {
        "member_id": M_ZHANG,
        "personal": {"name": "张三", "id_number": ID_ZHANG, "phone": "13900139000"},
        "occupation": "车间主任",
    },
    "member.erased": {
        "member_id": M_WANG,
        "decided_by": "县委组织部",
        "legal_basis": "《个人信息保护法》第四十七条；本人申请 2026-03-01",
        "decided_on": "2026-03-02",
    },
    "member.study_account_opened": {
        "member_id": M_ZHANG,
        "platform": "潇湘红云·智慧党建",
        "account": "zs-2026",
    },
    "post.cross_assigned": {"member_id": M_ZHANG, "org_id": "changan-host", "post": "兼职委员"},
    "recruitment.reviewed": {
        "candidate_id": M_LI,
        "org_id": "dongguan",
        "side": "outstation",
        "decision": "approved",
    },
    "orglife.held": {
        "org_id": "dongguan",
        "kind": "theme_day",
        "topic": "主题党日：学习党章",
        "attendees": [M_ZHANG, M_LI],
    },
    "liaison.briefing": {"org_id": "dongguan", "host_org": "changan-host", "topic": "季度情况通报"},
    "training.held": {
        "org_id": "dongguan",
        "mode": "cloud",
        "title": "云党课：基层治理",
        "attendees": [M_ZHANG, M_LI, M_WANG],
        "hours": 2,
    },
    "fund.received": {
        "org_id": "dongguan",
        "source": "member_donation",
        "amount_fen": 50_000,
        "note": "党员捐款",
    },
    "fund.spent": {"org_id": "dongguan", "amount_fen": 12_050, "purpose": "购置学习资料"},
    "returnee.invested": {
        "org_id": "dongguan",
        "enterprise": "某某电子厂",
        "industry": "电子",
        "amount_fen": 500_000_000,
        "jobs": 80,
        "park": "县工业园",
        "member_id": M_ZHANG,
    },
    "investment.lead": {
        "org_id": "dongguan",
        "kind": "project",
        "title": "引进鞋材项目",
        "households": 12,
        "member_id": M_LI,
    },
    "jobs.posted": {"org_id": "dongguan", "notices": 3, "positions": 150},
    "jobs.placed": {"org_id": "dongguan", "people": 27},
    "donation.made": {
        "org_id": "dongguan",
        "cause": "flood_relief",
        "cash_fen": 2_000_000,
        "in_kind_fen": 350_000,
        "in_kind": "矿泉水 200 箱",
    },
    "dispute.mediated": {
        "org_id": "dongguan",
        "category": "wages",
        "outcome": "resolved",
        "recovered_fen": 4_800_000,
    },
    "legal.consulted": {"org_id": "dongguan", "people": 5, "topic": "劳动合同"},
    "service.provided": {"org_id": "dongguan", "line": "labour", "people": 40},
    "enterprise.founded": {
        "org_id": "dongguan",
        "enterprise": "东莞某五金厂",
        "industry": "五金",
        "households_enriched": 30,
        "member_id": M_WANG,
    },
    "chamber.member_joined": {
        "org_id": "shanxia-chamber",
        "member_kind": "company",
        "name": "某建材公司",
    },
    "chamber.funds_raised": {"org_id": "shanxia-chamber", "amount_fen": 10_000_000},
    "chamber.project_launched": {
        "org_id": "shanxia-chamber",
        "project": "家乡道路硬化",
        "industry": "基础设施",
        "amount_fen": 30_000_000,
    },
    "node.key_rotated": {"new_key_id": "0123456789abcdef", "new_public_key": "ab" * 32},
    "node.recovered": {
        "recovered_to_seq": 7,
        "collided_from_seq": 6,
        "collided_to_seq": 6,
        "collided": [
            {
                "seq": 6,
                "hash": "cd" * 32,
                "event_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
                "type": "fund.received",
            }
        ],
    },
    "record.corrected": {
        "target_seq": 5,
        "target_event_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        "reason": "金额录入错误：应为 5000 元",
        "replacement": {
            "type": "fund.received",
            "org_id": "dongguan",
            "source": "host_subsidy",
            "amount_fen": 500_000,
            "note": "",
        },
    },
    "record.voided": {
        "target_seq": 6,
        "target_event_id": "4a1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        "target_type": "legal.consulted",
        "reason": "重复录入",
    },
}

OCCURRED = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
RECORDED = datetime(2026, 3, 5, 2, 31, 7, 123456, tzinfo=UTC)


def sample(type_: str, **changes: Any) -> dict[str, Any]:
    """The sample payload of `type_` with `changes` applied; a value of ... removes the field."""
    payload = copy.deepcopy(SAMPLES[type_])
    for name, value in changes.items():
        if value is ...:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


# --- every type round-trips -------------------------------------------------------------------


def test_every_event_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    # DESIGN §5 (31), node.key_rotated, node.recovered, member.erased, record.corrected, record.voided
    assert len(EVENT_TYPES) == 36


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_sample_round_trips_through_a_signed_envelope(type_: str) -> None:
    body = convert_payload(type_, SAMPLES[type_])
    env = sign(
        node_id="dongguan",
        seq=1,
        event_id="3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        body=body,
        occurred_at=OCCURRED,
        recorded_at=RECORDED,
        prev_hash=GENESIS_HASH,
        signer=SIGNER,
    )
    received = decode(encode(env))

    assert received == env
    assert received.type == type_
    assert received.schema == event_class(type_).SCHEMA
    assert decode_payload(type_, bytes(received.payload), received.schema) == body
    assert hash_matches(received)
    assert signature_valid(received, Verifier(SIGNER.public_key))
    # every field the clerk gave is on the wire with the same value
    wire_payload = json.loads(bytes(received.payload))
    assert wire_payload["type"] == type_
    assert {k: wire_payload[k] for k in SAMPLES[type_]} == SAMPLES[type_]


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_sample_passes_the_time_checks(type_: str) -> None:
    check_times(convert_payload(type_, SAMPLES[type_]), OCCURRED, RECORDED)


def test_an_unknown_payload_field_is_ignored_so_schemas_can_grow() -> None:
    body = convert_payload("fund.received", sample("fund.received", added_in_v2="x"))
    assert body == convert_payload("fund.received", SAMPLES["fund.received"])


def test_csv_mode_accepts_numbers_written_as_text() -> None:
    body = convert_payload("fund.received", sample("fund.received", amount_fen="50000"), strict=False)
    assert body.amount_fen == 50_000  # type: ignore[attr-defined]


# --- validation rules: the error names the field ------------------------------------------------

LONG = "字" * 201
BAD_CHECK_DIGIT = ID_ZHANG[:17] + "1"
BAD_BIRTH_DATE = "430721199002301233"  # 1990-02-30, with a correct check digit
OUTSTATION = "org.registered"

INVALID: list[tuple[str, str, dict[str, Any], str]] = [
    # (case, type, payload, field the error must name)
    (
        "void an erasure",
        "record.voided",
        sample("record.voided", target_type="member.erased"),
        "payload.target_type",
    ),
    (
        "void a registration",
        "record.voided",
        sample("record.voided", target_type="member.registered"),
        "payload.target_type",
    ),
    (
        "void a key rotation",
        "record.voided",
        sample("record.voided", target_type="node.key_rotated"),
        "payload.target_type",
    ),
    (
        "correct with an erasure",
        "record.corrected",
        sample("record.corrected", replacement={"type": "member.erased", "member_id": M_ZHANG}),
        "payload.replacement.type",
    ),
    (
        "correct a correction",
        "record.corrected",
        sample("record.corrected", replacement=sample("record.voided") | {"type": "record.voided"}),
        "payload.replacement.type",
    ),
    (
        "replacement validated as its type",
        "record.corrected",
        sample("record.corrected", replacement=sample("record.corrected")["replacement"] | {"amount_fen": 0}),
        "payload.replacement.amount_fen",
    ),
    (
        "replacement without a type",
        "record.corrected",
        sample("record.corrected", replacement={"org_id": "dongguan", "amount_fen": 1, "source": "fiscal"}),
        "payload.replacement.type",
    ),
    ("correction reason empty", "record.corrected", sample("record.corrected", reason=""), "payload.reason"),
    ("void reason too long", "record.voided", sample("record.voided", reason="字" * 501), "payload.reason"),
    ("void reason missing", "record.voided", sample("record.voided", reason=...), "payload.reason"),
    ("target seq zero", "record.voided", sample("record.voided", target_seq=0), "payload.target_seq"),
    (
        "target seq beyond",
        "record.voided",
        sample("record.voided", target_seq=2**53 + 1),
        "payload.target_seq",
    ),
    (
        "target event id not a uuid",
        "record.corrected",
        sample("record.corrected", target_event_id="5"),
        "payload.target_event_id",
    ),
    ("amount zero", "fund.received", sample("fund.received", amount_fen=0), "payload.amount_fen"),
    (
        "amount negative",
        "fund.received",
        sample("fund.received", amount_fen=-100),
        "payload.amount_fen",
    ),
    (
        "amount float",
        "fund.received",
        sample("fund.received", amount_fen=12.5),
        "payload.amount_fen",
    ),
    (
        "amount whole float",
        "fund.received",
        sample("fund.received", amount_fen=500.0),
        "payload.amount_fen",
    ),
    (
        "amount string",
        "fund.received",
        sample("fund.received", amount_fen="50000"),
        "payload.amount_fen",
    ),
    (
        "amount bool",
        "fund.received",
        sample("fund.received", amount_fen=True),
        "payload.amount_fen",
    ),
    (
        "amount too big",
        "fund.received",
        sample("fund.received", amount_fen=10**13 + 1),
        "payload.amount_fen",
    ),
    ("spent zero", "fund.spent", sample("fund.spent", amount_fen=0), "payload.amount_fen"),
    (
        "chamber raised zero",
        "chamber.funds_raised",
        sample("chamber.funds_raised", amount_fen=0),
        "payload.amount_fen",
    ),
    (
        "invested negative",
        "returnee.invested",
        sample("returnee.invested", amount_fen=-1),
        "payload.amount_fen",
    ),
    (
        "recovered negative",
        "dispute.mediated",
        sample("dispute.mediated", recovered_fen=-1),
        "payload.recovered_fen",
    ),
    ("jobs negative", "returnee.invested", sample("returnee.invested", jobs=-1), "payload.jobs"),
    ("people zero", "jobs.placed", sample("jobs.placed", people=0), "payload.people"),
    ("notices zero", "jobs.posted", sample("jobs.posted", notices=0), "payload.notices"),
    ("hours zero", "training.held", sample("training.held", hours=0), "payload.hours"),
    # required fields
    ("missing source", "fund.received", sample("fund.received", source=...), "payload.source"),
    (
        "missing amount",
        "fund.received",
        sample("fund.received", amount_fen=...),
        "payload.amount_fen",
    ),
    (
        "missing personal",
        "member.registered",
        sample("member.registered", personal=...),
        "payload.personal",
    ),
    (
        "missing home branch",
        "member.registered",
        sample("member.registered", home_branch=...),
        "payload.home_branch",
    ),
    (
        "missing flowed_out_on",
        "member.registered",
        sample("member.registered", flowed_out_on=...),
        "payload.flowed_out_on",
    ),
    (
        "missing name in personal",
        "member.registered",
        sample("member.registered", personal={"id_number": ID_ZHANG}),
        "payload.personal.name",
    ),
    ("missing purpose", "fund.spent", sample("fund.spent", purpose=...), "payload.purpose"),
    (
        "missing host_location",
        "member.moved",
        sample("member.moved", host_location=...),
        "payload.host_location",
    ),
    # enums
    (
        "bad fund source",
        "fund.received",
        sample("fund.received", source="bank_loan"),
        "payload.source",
    ),
    ("bad org kind", OUTSTATION, sample(OUTSTATION, kind="party_cell"), "payload.kind"),
    ("bad outstation mode", OUTSTATION, sample(OUTSTATION, mode="factory"), "payload.mode"),
    (
        "bad venue kind",
        "org.venue_opened",
        sample("org.venue_opened", kind="office"),
        "payload.kind",
    ),
    (
        "bad venue source",
        "org.venue_opened",
        sample("org.venue_opened", obtained="bought"),
        "payload.obtained",
    ),
    ("bad training mode", "training.held", sample("training.held", mode="video"), "payload.mode"),
    ("bad orglife kind", "orglife.held", sample("orglife.held", kind="party"), "payload.kind"),
    (
        "bad review side",
        "recruitment.reviewed",
        sample("recruitment.reviewed", side="county"),
        "payload.side",
    ),
    (
        "bad review decision",
        "recruitment.reviewed",
        sample("recruitment.reviewed", decision="maybe"),
        "payload.decision",
    ),
    ("bad lead kind", "investment.lead", sample("investment.lead", kind="rumour"), "payload.kind"),
    (
        "bad donation cause",
        "donation.made",
        sample("donation.made", cause="party"),
        "payload.cause",
    ),
    (
        "bad dispute category",
        "dispute.mediated",
        sample("dispute.mediated", category="noise"),
        "payload.category",
    ),
    (
        "bad dispute outcome",
        "dispute.mediated",
        sample("dispute.mediated", outcome="won"),
        "payload.outcome",
    ),
    (
        "bad service line",
        "service.provided",
        sample("service.provided", line="banking"),
        "payload.line",
    ),
    (
        "bad chamber member kind",
        "chamber.member_joined",
        sample("chamber.member_joined", member_kind="robot"),
        "payload.member_kind",
    ),
    (
        "enum in upper case",
        "fund.received",
        sample("fund.received", source="FISCAL"),
        "payload.source",
    ),
    # slugs
    (
        "slug with space",
        "fund.received",
        sample("fund.received", org_id="dong guan"),
        "payload.org_id",
    ),
    (
        "slug upper case",
        "fund.received",
        sample("fund.received", org_id="Dongguan"),
        "payload.org_id",
    ),
    ("slug in Chinese", "fund.received", sample("fund.received", org_id="东莞"), "payload.org_id"),
    ("slug empty", "fund.received", sample("fund.received", org_id=""), "payload.org_id"),
    ("slug too long", "fund.received", sample("fund.received", org_id="a" * 65), "payload.org_id"),
    (
        "slug leading dash",
        "fund.received",
        sample("fund.received", org_id="-dongguan"),
        "payload.org_id",
    ),
    ("bad parent slug", OUTSTATION, sample(OUTSTATION, parent_id="County!"), "payload.parent_id"),
    # member ids
    (
        "member id too short",
        "member.returned",
        sample("member.returned", member_id="ab" * 15),
        "payload.member_id",
    ),
    (
        "member id upper case",
        "member.returned",
        sample("member.returned", member_id=M_ZHANG.upper()),
        "payload.member_id",
    ),
    (
        "member id is the ID number",
        "member.returned",
        sample("member.returned", member_id=ID_WANG),
        "payload.member_id",
    ),
    (
        "bad candidate id",
        "recruitment.reviewed",
        sample("recruitment.reviewed", candidate_id="x"),
        "payload.candidate_id",
    ),
    (
        "bad attendee",
        "orglife.held",
        sample("orglife.held", attendees=[M_ZHANG, "nobody"]),
        "payload.attendees.1",
    ),
    # personal data
    (
        "ID check digit",
        "member.registered",
        sample("member.registered", personal={"name": "张三", "id_number": BAD_CHECK_DIGIT}),
        "payload.personal.id_number",
    ),
    (
        "ID 17 digits",
        "member.registered",
        sample("member.registered", personal={"name": "张三", "id_number": ID_ZHANG[:17]}),
        "payload.personal.id_number",
    ),
    (
        "ID lower-case x",
        "member.registered",
        sample("member.registered", personal={"name": "张三", "id_number": ID_ZHANG.lower()}),
        "payload.personal.id_number",
    ),
    (
        "ID birth date",
        "member.registered",
        sample("member.registered", personal={"name": "张三", "id_number": BAD_BIRTH_DATE}),
        "payload.personal.id_number",
    ),
    (
        "phone too short",
        "member.registered",
        sample(
            "member.registered",
            personal={"name": "张三", "id_number": ID_ZHANG, "phone": "1380013800"},
        ),
        "payload.personal.phone",
    ),
    (
        "phone landline",
        "member.registered",
        sample(
            "member.registered",
            personal={"name": "张三", "id_number": ID_ZHANG, "phone": "07698888888"},
        ),
        "payload.personal.phone",
    ),
    (
        "phone on update",
        "member.details_updated",
        sample("member.details_updated", personal={"name": "张三", "id_number": ID_ZHANG, "phone": "1"}),
        "payload.personal.phone",
    ),
    # texts
    (
        "empty name",
        "org.secretary_appointed",
        sample("org.secretary_appointed", name=""),
        "payload.name",
    ),
    (
        "name too long",
        "org.secretary_appointed",
        sample("org.secretary_appointed", name=LONG),
        "payload.name",
    ),
    ("note too long", "fund.received", sample("fund.received", note="字" * 2001), "payload.note"),
    # organisation rules
    ("outstation without mode", OUTSTATION, sample(OUTSTATION, mode=...), "payload.mode"),
    (
        "outstation without host location",
        OUTSTATION,
        sample(OUTSTATION, host_location=...),
        "payload.host_location",
    ),
    (
        "village branch with a mode",
        OUTSTATION,
        {
            "org_id": "shanxia-village",
            "name": "山下村党支部",
            "kind": "village_branch",
            "parent_id": "shanxia-township",
            "mode": "lychee",
        },
        "payload.mode",
    ),
    (
        "village branch without parent",
        OUTSTATION,
        {"org_id": "shanxia-village", "name": "山下村党支部", "kind": "village_branch"},
        "payload.parent_id",
    ),
    (
        "outstation without parent",
        OUTSTATION,
        sample(OUTSTATION, parent_id=...),
        "payload.parent_id",
    ),
    ("own parent", OUTSTATION, sample(OUTSTATION, parent_id="dongguan"), "payload.parent_id"),
    # other cross-field rules
    (
        "donation of nothing",
        "donation.made",
        sample("donation.made", cash_fen=0, in_kind_fen=0),
        "payload.cash_fen",
    ),
    (
        "donation without amounts",
        "donation.made",
        sample("donation.made", cash_fen=..., in_kind_fen=...),
        "payload.cash_fen",
    ),
    (
        "details_updated with nothing",
        "member.details_updated",
        sample("member.details_updated", personal=..., occupation=...),
        "payload.occupation",
    ),
    (
        "no orglife attendees",
        "orglife.held",
        sample("orglife.held", attendees=[]),
        "payload.attendees",
    ),
    (
        "no training attendees",
        "training.held",
        sample("training.held", attendees=[]),
        "payload.attendees",
    ),
    (
        "date not a date",
        "member.registered",
        sample("member.registered", flowed_out_on="2024-02-30"),
        "payload.flowed_out_on",
    ),
]


@pytest.mark.parametrize(
    ("type_", "payload", "field"),
    [pytest.param(t, p, f, id=case) for case, t, p, f in INVALID],
)
def test_invalid_payload_is_refused_naming_the_field(type_: str, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as caught:
        convert_payload(type_, payload)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("type_", "payload", "field"),
    [pytest.param(t, p, f, id=case) for case, t, p, f in INVALID],
)
def test_invalid_payload_on_the_wire_is_refused_naming_the_field(
    type_: str, payload: dict[str, Any], field: str
) -> None:
    """The county decodes payloads from bytes; the same rules hold there."""
    with pytest.raises(FieldError) as caught:
        decode_payload(type_, json.dumps({**payload, "type": type_}).encode())
    assert caught.value.field == field


@pytest.mark.parametrize("amount", ["0", "-100", "12.5", "五百", ""])
def test_csv_mode_still_refuses_bad_amounts(amount: str) -> None:
    with pytest.raises(FieldError) as caught:
        convert_payload("fund.received", sample("fund.received", amount_fen=amount), strict=False)
    assert caught.value.field == "payload.amount_fen"


def test_payload_must_be_an_object() -> None:
    with pytest.raises(FieldError) as caught:
        convert_payload("fund.received", [SAMPLES["fund.received"]])
    assert caught.value.field == "payload"


def test_payload_type_on_the_wire_must_match_the_envelope_type() -> None:
    wrong = {**SAMPLES["fund.spent"], "type": "fund.spent"}
    with pytest.raises(FieldError) as caught:
        decode_payload("fund.received", json.dumps(wrong).encode())
    assert caught.value.field == "payload.type"


def test_malformed_payload_bytes_are_refused() -> None:
    with pytest.raises(FieldError) as caught:
        decode_payload("fund.received", b'{"org_id": "dongguan", ')
    assert caught.value.field.startswith("payload")


@pytest.mark.parametrize("call", ["convert", "decode", "class"])
def test_unknown_type_is_refused_naming_type(call: str) -> None:
    with pytest.raises(UnknownTypeError) as caught:
        if call == "convert":
            convert_payload("fund.stolen", SAMPLES["fund.received"])
        elif call == "decode":
            decode_payload("fund.stolen", b"{}")
        else:
            event_class("fund.stolen")
    assert caught.value.field == "type"
    assert isinstance(caught.value, FieldError)
    assert "fund.stolen" in str(caught.value)


def test_future_schema_is_refused_naming_schema() -> None:
    raw = json.dumps(SAMPLES["fund.received"]).encode()
    known = EVENT_TYPES["fund.received"].SCHEMA
    assert decode_payload("fund.received", raw, known) is not None
    with pytest.raises(FutureSchemaError) as caught:
        decode_payload("fund.received", raw, known + 1)
    assert caught.value.field == "schema"
    assert isinstance(caught.value, FieldError)


# --- times --------------------------------------------------------------------------------------


def test_occurred_at_in_the_future_beyond_clock_skew_is_refused() -> None:
    body = convert_payload("fund.received", SAMPLES["fund.received"])
    check_times(body, RECORDED + MAX_CLOCK_SKEW, RECORDED)  # at the limit: accepted
    with pytest.raises(FieldError) as caught:
        check_times(body, RECORDED + MAX_CLOCK_SKEW + timedelta(seconds=1), RECORDED)
    assert caught.value.field == "occurred_at"


def test_occurred_at_without_time_zone_is_refused() -> None:
    body = convert_payload("fund.received", SAMPLES["fund.received"])
    with pytest.raises(FieldError) as caught:
        check_times(body, datetime(2026, 3, 5, 10, 30), RECORDED)
    assert caught.value.field == "occurred_at"


@pytest.mark.parametrize(
    ("type_", "field"),
    [("member.registered", "flowed_out_on"), ("member.contact_lost", "last_contact_on")],
)
def test_past_date_after_occurred_at_is_refused(type_: str, field: str) -> None:
    day_after = (OCCURRED + timedelta(days=1)).date().isoformat()
    body = convert_payload(type_, sample(type_, **{field: day_after}))
    with pytest.raises(FieldError) as caught:
        check_times(body, OCCURRED, RECORDED)
    assert caught.value.field == f"payload.{field}"


def test_past_date_on_the_day_of_occurred_at_is_accepted() -> None:
    body = convert_payload("member.registered", sample("member.registered", flowed_out_on="2026-03-05"))
    check_times(body, datetime(2026, 3, 5, 12, tzinfo=UTC), datetime(2026, 3, 5, 12, tzinfo=UTC))


def test_past_date_on_the_same_china_day_is_accepted_early_in_the_morning() -> None:
    """A clerk in Dongguan records at 07:00 CST on 5 March that a member flowed out that day."""
    at_seven_cst = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)  # 2026-03-05 07:00 +08:00
    body = convert_payload("member.registered", sample("member.registered", flowed_out_on="2026-03-05"))
    check_times(body, at_seven_cst, at_seven_cst)


# --- canonical encoding ---------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text()
JSON_TREES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(JSON_TREES)
def test_canonical_is_python_json_with_sorted_keys_and_no_escaping(value: Any) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(value) == expected


@pytest.mark.parametrize(
    "text",
    [
        "党员捐款",
        "\x00\x1f\x7f",
        'quote " and \\ backslash',
        "\b\f\n\r\t",
        "\u2028\u2029/",
        "😀\uffff",
    ],
)
def test_canonical_escapes_exactly_like_python_json(text: str) -> None:
    value = {text: [text, {"z": 1, "a": text}]}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(value) == expected


def test_canonical_sorts_keys_by_code_point_not_utf16() -> None:
    # U+1F600 sorts after U+FFFF by code point (and UTF-8), before it in UTF-16 code units
    assert canonical({"😀": 1, "\uffff": 2}) == '{"\uffff":2,"😀":1}'.encode()


# --- member identity --------------------------------------------------------------------------


def test_member_id_is_deterministic_32_hex_and_keyed() -> None:
    first = member_id(SECRET, ID_ZHANG)
    assert first == member_id(bytes(SECRET), ID_ZHANG)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert member_id(OTHER_SECRET, ID_ZHANG) != first
    assert member_id(SECRET, ID_ZHAO) != first
    assert first != hashlib.sha256(ID_ZHANG.encode()).hexdigest()[:32]  # needs the secret


def test_member_id_is_valid_as_a_payload_member_id() -> None:
    body = convert_payload("member.returned", {"member_id": member_id(SECRET, ID_ZHAO)})
    assert body.member_id == member_id(SECRET, ID_ZHAO)  # type: ignore[attr-defined]


@pytest.mark.parametrize("id_number", [BAD_CHECK_DIGIT, ID_ZHANG[:17], ID_ZHANG.lower(), BAD_BIRTH_DATE, ""])
def test_member_id_refuses_an_invalid_id_number(id_number: str) -> None:
    with pytest.raises(FieldError) as caught:
        member_id(SECRET, id_number)
    assert caught.value.field == "personal.id_number"


@pytest.mark.parametrize("text", ["", "zz" * 32, SECRET.hex()[:62], SECRET.hex() + "00"])
def test_county_secret_must_be_32_bytes_of_hex(text: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_county_secret(text)
    assert caught.value.field == "county_secret"
    assert parse_county_secret(f"  {SECRET.hex()}\n") == SECRET


def test_valid_sample_dates_are_in_the_past() -> None:
    """Guard for the samples themselves: their past dates lie before OCCURRED."""
    for type_, cls in EVENT_TYPES.items():
        for name in cls.PAST_DATES:
            value = SAMPLES[type_].get(name)
            if value is not None:
                assert date.fromisoformat(value) <= OCCURRED.date()


def test_struct_payload_round_trips_through_builtins() -> None:
    """What the node signs (`to_builtins`) converts back to the same event."""
    for type_, payload in SAMPLES.items():
        body = convert_payload(type_, payload)
        assert convert_payload(type_, msgspec.to_builtins(body)) == body
