"""The rule table, case by case (`rules.judge`), and the screen's decisions on a member's and an
organisation's history (`screen`): pure, no database. And the demo's whole county says nothing out
of turn."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from services.branch_node.inputs import parse_item
from services.county.authority.rules import Speaker, judge
from services.county.authority.screen import Speakers, screen_entity, screen_events
from services.county.projections.fact import MEMBER, ORG, Fact, split_entity
from services.county.projections.registry import entity_of
from shared.catalog import convert_payload
from shared.envelope import format_time
from tests.ids import GIVEN
from tongxin.demo.county import OFFICE_NODE, SPEAKS_FOR
from tongxin.demo.history import build

DONGGUAN = Speaker.default("dongguan")
OFFICE = Speaker("county-office", frozenset({"county"}), office=True)
CHAMBERS = Speaker("chambers", frozenset({"chambers", "c1"}))
M = "a" * 32
HOST = {"name": "长安镇党委", "kind": "host_org", "host_location": "东莞"}
OUTSTATION = {"name": "驻京党支部", "kind": "outstation", "host_location": "北京", "mode": "service_station"}
REG = {"personal": {"name": "成员", "id_number": "11010519491231002X"}, "home_branch": "v1"}
REG |= {"flowed_out_on": "2019-03-01", "member_id": M}
LIAISON = {"leader": "李部长", "office": "组织一科"}
REVIEW = {"candidate_id": M, "decision": "approved"}
ORGLIFE = {"kind": "theme_day", "topic": "主题党日", "attendees": [M]}

CASES: list[tuple[Speaker, str, dict[str, Any], str | None]] = [
    (DONGGUAN, "fund.received", {"org_id": "dongguan", "source": "fiscal", "amount_fen": 1}, None),
    (DONGGUAN, "fund.received", {"org_id": "beijing", "source": "fiscal", "amount_fen": 1}, "not_own_org"),
    (DONGGUAN, "fund.spent", {"org_id": "county", "amount_fen": 1, "purpose": "租金"}, "not_own_org"),
    (OFFICE, "fund.received", {"org_id": "county", "source": "fiscal", "amount_fen": 1}, None),
    (OFFICE, "fund.received", {"org_id": "dongguan", "source": "fiscal", "amount_fen": 1}, "not_own_org"),
    (DONGGUAN, "jobs.placed", {"org_id": "beijing", "people": 3}, "not_own_org"),
    (CHAMBERS, "chamber.funds_raised", {"org_id": "c1", "amount_fen": 5}, None),
    (DONGGUAN, "chamber.funds_raised", {"org_id": "c1", "amount_fen": 5}, "not_own_org"),
    (DONGGUAN, "orglife.held", {"org_id": "beijing", **ORGLIFE}, "not_own_org"),
    (DONGGUAN, "orglife.held", {"org_id": "dongguan", **ORGLIFE}, None),  # attendees are not checked
    (DONGGUAN, "org.registered", {"org_id": "changan", "parent_id": "dongguan", **HOST}, None),
    (DONGGUAN, "org.registered", {"org_id": "changan", "parent_id": "beijing", **HOST}, "office_only"),
    (DONGGUAN, "org.registered", {"org_id": "beijing", "parent_id": "county", **OUTSTATION}, "office_only"),
    (OFFICE, "org.registered", {"org_id": "beijing", "parent_id": "county", **OUTSTATION}, None),
    (DONGGUAN, "org.secretary_appointed", {"org_id": "dongguan", "name": "张三"}, None),
    (DONGGUAN, "org.secretary_appointed", {"org_id": "beijing", "name": "张三"}, "not_own_org"),
    (
        OFFICE,
        "org.venue_opened",
        {
            "org_id": "beijing",
            "venue_id": "v",
            "name": "阵地",
            "kind": "activity_venue",
            "obtained": "rented",
        },
        None,
    ),
    (DONGGUAN, "org.liaison_assigned", {"org_id": "dongguan", **LIAISON}, "office_only"),
    (OFFICE, "org.liaison_assigned", {"org_id": "dongguan", **LIAISON}, None),
    (DONGGUAN, "member.registered", {**REG, "outstation": "dongguan"}, None),
    (DONGGUAN, "member.registered", REG, None),  # at no outstation
    (DONGGUAN, "member.registered", {**REG, "outstation": "beijing"}, "not_own_org"),
    (DONGGUAN, "member.returned", {"member_id": M}, None),  # the member's history decides (below)
    (DONGGUAN, "recruitment.reviewed", {"org_id": "dongguan", "side": "outstation", **REVIEW}, None),
    (DONGGUAN, "recruitment.reviewed", {"org_id": "beijing", "side": "outstation", **REVIEW}, "not_own_org"),
    (DONGGUAN, "recruitment.reviewed", {"org_id": "dongguan", "side": "home", **REVIEW}, "office_only"),
    (OFFICE, "recruitment.reviewed", {"org_id": "dongguan", "side": "home", **REVIEW}, None),
    (DONGGUAN, "node.key_rotated", {"new_key_id": "0" * 16, "new_public_key": "1" * 64}, None),
]


@pytest.mark.parametrize(("speaker", "type_", "payload", "reason"), CASES)
def test_the_rule_table_case_by_case(
    speaker: Speaker, type_: str, payload: dict[str, Any], reason: str | None
) -> None:
    found = judge(speaker, convert_payload(type_, payload))
    assert (found.reason if found else None) == reason
    if found is not None:
        assert found.detail.startswith(("payload.", "type:")), "the detail names the field"


def fact(node: str, seq: int, day: int, type_: str, **payload: Any) -> Fact:
    return Fact(node, seq, f"2026-03-{day:02d}T02:00:00.000000Z", type_, convert_payload(type_, payload))


def registered(node: str, seq: int, day: int, outstation: str | None = None) -> Fact:
    return fact(node, seq, day, "member.registered", **REG, outstation=outstation or node)


def verdicts(facts: list[Fact], speakers: Speakers | None = None) -> dict[str, str | None]:
    screened = screen_entity(MEMBER, M, facts, speakers or Speakers())
    out: dict[str, str | None] = {f.ref: None for f in screened.admitted}
    out |= {f.ref: r.reason for f, r in screened.refused}
    return out


MOVED = {"outstation": "beijing", "host_location": "北京"}


def test_a_member_is_spoken_for_by_the_registrant_and_from_a_move_on_by_the_new_outstation() -> None:
    facts = [
        registered("shenzhen", 1, 1),
        fact("beijing", 1, 2, "member.contact_lost", member_id=M),  # before the move: not beijing's
        fact("shenzhen", 2, 3, "member.moved", member_id=M, **MOVED),
        fact("beijing", 2, 4, "member.returned", member_id=M),  # after it: beijing's
        fact("shenzhen", 3, 5, "member.details_updated", member_id=M, occupation="厨师"),  # still its
        fact("dongguan", 1, 6, "post.cross_assigned", member_id=M, org_id="dongguan", post="委员"),
    ]
    expected = {"shenzhen:1": None, "beijing:1": "not_own_member", "shenzhen:2": None,
                "beijing:2": None, "shenzhen:3": None, "dongguan:1": "not_own_member"}  # fmt: skip
    assert verdicts(facts) == expected
    for seed in range(20):  # a function of the events, not of the order they are given in
        random.Random(seed).shuffle(facts)
        assert verdicts(facts) == expected
    # without the move, beijing speaks for nobody's member; the move decides as it arrives
    assert verdicts([f for f in facts if f.ref != "shenzhen:2"])["beijing:2"] == "not_own_member"


def test_what_a_member_history_refuses_gives_no_say() -> None:
    facts = [
        registered("dongguan", 1, 1, outstation="beijing"),  # at another's outstation: refused
        fact("dongguan", 2, 2, "member.returned", member_id=M),  # so dongguan does not hold M
        registered("shenzhen", 1, 3),
        fact("beijing", 1, 4, "member.moved", member_id=M, outstation="beijing", host_location="北京"),
        fact("beijing", 2, 5, "member.returned", member_id=M),  # its own refused move gave it nothing
        registered("huadu", 1, 6),  # registered twice: a conflict, and huadu holds M too
        fact("huadu", 2, 7, "member.contact_lost", member_id=M),
        fact("shenzhen", 2, 1, "member.study_account_opened", member_id=M, account="x"),  # pre-registration
    ]
    assert verdicts(facts) == {
        "dongguan:1": "not_own_org",
        "dongguan:2": "not_own_member",
        "shenzhen:1": None,
        "beijing:1": "not_own_member",
        "beijing:2": "not_own_member",
        "huadu:1": None,
        "huadu:2": None,
        "shenzhen:2": "not_own_member",
    }


def test_an_organisation_the_county_office_registered_is_its_own() -> None:
    office = Speakers({"county-office": OFFICE})
    taken = fact("dongguan", 1, 1, "org.registered", org_id="beijing", parent_id="dongguan", **HOST)
    own = fact("county-office", 1, 2, "org.registered", org_id="beijing", parent_id="county", **OUTSTATION)
    screened = screen_entity(ORG, "beijing", [taken, own], office)
    assert [f.ref for f in screened.admitted] == ["county-office:1"]
    assert [(f.ref, r.reason) for f, r in screened.refused] == [("dongguan:1", "office_only")]
    alone = screen_entity(ORG, "beijing", [taken], office)  # until the office's arrives
    assert [f.ref for f in alone.admitted] == ["dongguan:1"]


def test_events_about_no_entity_are_judged_alone() -> None:
    facts = [
        fact("dongguan", 1, 1, "fund.received", org_id="dongguan", source="fiscal", amount_fen=1),
        fact("dongguan", 2, 1, "fund.received", org_id="beijing", source="fiscal", amount_fen=1),
    ]
    screened = screen_events(facts, Speakers())
    assert [f.ref for f in screened.admitted] == ["dongguan:1"]
    assert [(f.ref, r.reason) for f, r in screened.refused] == [("dongguan:2", "not_own_org")]


def test_the_demo_county_says_nothing_out_of_turn() -> None:
    """Every event of the demo's history (as its nodes record it), screened as the county will:
    none is refused, so the demo's figures are the report's."""
    history = build(3, 300, date(2026, 11, 1))
    speakers = Speakers(
        {
            node: Speaker(node, frozenset(SPEAKS_FOR.get(node, [node])), node == OFFICE_NODE)
            for node in history.items
        }
    )
    about: dict[str | None, list[Fact]] = defaultdict(list)
    for node, items in history.items.items():
        for seq, item in enumerate(items, start=1):
            new = parse_item(item, GIVEN)
            f = Fact(node, seq, format_time(new.occurred_at), item["type"], new.body)
            about[entity_of(new.body)].append(f)
    total = sum(len(fs) for fs in about.values())
    refused = screen_events(about.pop(None), speakers).refused
    for key, facts in about.items():
        refused += screen_entity(*split_entity(key), facts, speakers).refused
    assert [(f.node_id, f.type, r.detail) for f, r in refused] == []
    assert total > 5000 and len(about) > 300  # the tree, the members, the candidates
