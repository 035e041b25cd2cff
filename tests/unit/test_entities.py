"""Member, org and candidate derivation: business order, statuses, co-managers, conflicts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from services.county.projections.conflicts import conflicts
from services.county.projections.dual_management import co_managers
from services.county.projections.fact import MEMBER, Fact
from services.county.projections.live import derive_entity
from services.county.projections.recruitment import derive_candidate
from services.county.projections.roster import member_timeline, members
from shared.catalog import convert_payload
from tests.samples import id_number

MID = "a" * 32


@dataclass
class MemberRows:
    """A member's rows in every member projection, as the registry derives them."""

    member: dict[str, Any] | None
    co_managers: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


def derive_member(member_id: str, facts: list[Fact]) -> MemberRows:
    rows = derive_entity(MEMBER, member_id, facts)
    found = rows.get(members, [])
    return MemberRows(
        found[0] if found else None,
        rows.get(co_managers, []),
        rows.get(conflicts, []),
        rows.get(member_timeline, []),
    )


def fact(node: str, seq: int, at: str, type_: str, **payload: Any) -> Fact:
    return Fact(node, seq, f"2026-03-{at}Z", type_, convert_payload(type_, payload))


def registered(node: str = "dongguan", seq: int = 1, at: str = "01T01:00:00.000000") -> Fact:
    personal = {"name": "张三", "id_number": id_number(1)}
    return fact(
        node,
        seq,
        at,
        "member.registered",
        member_id=MID,
        personal=personal,
        home_branch="v1",
        outstation=node,
        host_org="changan",
        flowed_out_on="2020-01-01",
    )


def test_status_follows_business_time_not_arrival() -> None:
    facts = [
        registered(),
        fact("dongguan", 3, "05T01:00:00.000000", "member.returned", member_id=MID),
        fact("dongguan", 2, "03T01:00:00.000000", "member.contact_lost", member_id=MID),
    ]
    for _ in range(5):
        random.shuffle(facts)
        rows = derive_member(MID, facts)
        assert rows.member is not None
        assert (rows.member["status"], rows.member["status_since"]) == (
            "returned",
            "2026-03-05T01:00:00.000000Z",
        )
        assert rows.co_managers == [], "a returned member is no longer co-managed by the outstation"


def test_co_managers_while_away_and_none_after_transfer() -> None:
    cross = fact(
        "huadu", 9, "02T01:00:00.000000", "post.cross_assigned", member_id=MID, org_id="huadu", post="委员"
    )
    away = derive_member(MID, [registered(), cross])
    assert [(c["org_id"], c["role"]) for c in away.co_managers] == [
        ("changan", "host_org"),
        ("dongguan", "outstation"),
        ("huadu", "cross_post"),
    ]
    gone = fact("dongguan", 2, "04T01:00:00.000000", "member.transferred_out", member_id=MID, to_org="长沙")
    assert derive_member(MID, [registered(), cross, gone]).co_managers == []


def test_double_registration_and_contradictory_same_day_changes_are_conflicts() -> None:
    rows = derive_member(
        MID,
        [
            registered("dongguan", 1),
            registered("huadu", 1, "01T02:00:00.000000"),
            fact("dongguan", 2, "06T01:00:00.000000", "member.returned", member_id=MID),
            fact("huadu", 2, "06T03:00:00.000000", "member.moved", member_id=MID, host_location="广州花都"),
        ],
    )
    assert sorted(c["kind"] for c in rows.conflicts) == ["contradictory_status", "double_registration"]
    assert rows.member is not None and rows.member["registered_by"] == "dongguan"


def test_events_dated_before_the_registration_are_ignored() -> None:
    early = fact(
        "dongguan", 5, "01T00:00:00.000000", "member.study_account_opened", member_id=MID, account="x"
    )
    assert derive_member(MID, [early]).member is None
    late = derive_member(MID, [early, registered(at="01T01:00:00.000000")])
    assert late.member is not None and late.member["study_account"] is False


def test_dual_review_keeps_each_sides_latest_decision() -> None:
    review = "recruitment.reviewed"
    row = derive_candidate(
        MID,
        [
            fact(
                "dongguan",
                1,
                "01T01:00:00.000000",
                review,
                candidate_id=MID,
                org_id="dongguan",
                side="outstation",
                decision="rejected",
            ),
            fact(
                "dongguan",
                2,
                "02T01:00:00.000000",
                review,
                candidate_id=MID,
                org_id="dongguan",
                side="outstation",
                decision="approved",
            ),
        ],
    )
    assert row is not None and (row["outstation_decision"], row["home_decision"]) == ("approved", None)


def test_the_timeline_holds_each_state_over_business_time() -> None:
    rows = derive_member(
        MID,
        [
            fact("dongguan", 3, "05T01:00:00.000000", "member.returned", member_id=MID),
            registered(),
            fact("dongguan", 2, "03T01:00:00.000000", "member.contact_lost", member_id=MID),
            fact(
                "dongguan", 4, "05T01:00:00.000000", "member.study_account_opened", member_id=MID, account="x"
            ),
        ],
    )
    assert [
        (v["valid_from"][8:10], v["valid_to"] and v["valid_to"][8:10], v["status"]) for v in rows.timeline
    ] == [("01", "03", "out"), ("03", "05", "contact_lost"), ("05", None, "returned")], (
        "a change that does not touch the versioned state (a study account) adds no version"
    )
