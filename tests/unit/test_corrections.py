"""Corrections decided (`authority/corrections.resolve`) and the member timeline across them
(`projections/corrected_timeline.spliced`): pure, no database."""

from __future__ import annotations

import uuid
from typing import Any

from services.county.authority.corrections import resolve
from services.county.authority.rules import Speaker
from services.county.authority.screen import Speakers, screen_entity
from services.county.projections.corrected_timeline import spliced
from services.county.projections.fact import MEMBER, Fact
from services.county.projections.roster import history
from shared.catalog import convert_payload

M = "a" * 32
OTHER = "b" * 32
REG = {
    "member_id": M,
    "personal": {"name": "成员", "id_number": "11010519491231002X"},
    "home_branch": "v1",
    "outstation": "dongguan",
    "flowed_out_on": "2019-03-01",
}
FUND = {"org_id": "dongguan", "source": "fiscal", "amount_fen": 100_000}


def at(day: int) -> str:
    return f"2026-03-{day:02d}T02:00:00.000000Z"


def event_id(node: str, seq: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{node}:{seq}"))


def fact(node: str, seq: int, day: int, type_: str, **payload: Any) -> Fact:
    return Fact(node, seq, at(day), type_, convert_payload(type_, payload), event_id(node, seq))


def corrected(
    node: str, seq: int, day: int, target: Fact, reason: str = "录错了", **replacement: Any
) -> Fact:
    payload = {
        "target_seq": target.seq,
        "target_event_id": target.event_id,
        "reason": reason,
        "replacement": {"type": target.type, **replacement},
    }
    return fact(node, seq, day, "record.corrected", **payload)


def voided(node: str, seq: int, day: int, target: Fact, **changes: Any) -> Fact:
    payload = {
        "target_seq": target.seq,
        "target_event_id": target.event_id,
        "target_type": target.type,
        "reason": "重复录入",
    }
    return fact(node, seq, day, "record.voided", **(payload | changes))


def decide(facts: list[Fact], subject: tuple[str, str] | None = None) -> tuple[list[Fact], dict[int, str]]:
    found = resolve(facts, Speakers().of, subject)
    return found.facts, {c.seq: r.reason for c, r in found.refused}


def test_the_newest_correction_is_the_effective_record_placed_where_the_original_stood() -> None:
    fund = fact("dongguan", 1, 1, "fund.received", **FUND)
    first = corrected("dongguan", 2, 5, fund, **FUND | {"amount_fen": 50_000})
    second = corrected("dongguan", 3, 6, fund, **FUND | {"amount_fen": 5_000})
    facts, refused = decide([second, fund, first])
    assert refused == {}
    (effective,) = facts
    assert effective.body.amount_fen == 5_000  # type: ignore[attr-defined]
    assert (effective.node_id, effective.seq, effective.occurred_at) == ("dongguan", 1, at(1))
    versions = resolve([fund, first, second], Speakers().of).versions[("dongguan", 1)]
    assert [(v.by.seq, v.valid_from, v.valid_to) for v in versions] == [
        (1, None, at(5)),
        (2, at(5), at(6)),
        (3, at(6), None),
    ]


def test_a_void_withdraws_the_record_and_is_final() -> None:
    fund = fact("dongguan", 1, 1, "fund.received", **FUND)
    void = voided("dongguan", 2, 3, fund)
    again = corrected("dongguan", 3, 4, fund, **FUND)
    twice = voided("dongguan", 4, 4, fund)
    facts, refused = decide([fund, void, again, twice])
    assert facts == []
    assert refused == {3: "target_voided", 4: "target_voided"}


def test_a_correction_naming_another_nodes_event_or_an_unknown_seq_is_refused() -> None:
    theirs = fact("beijing", 1, 1, "fund.received", **FUND | {"org_id": "beijing"})
    mine = fact("dongguan", 1, 1, "fund.received", **FUND)
    # dongguan names beijing's event: its own seq 1 has another event id
    stolen = corrected("dongguan", 2, 2, theirs, **FUND)
    ahead = voided("dongguan", 3, 2, mine, target_seq=7)  # no seq 7 before seq 3
    missing = voided("dongguan", 4, 2, mine, target_seq=2, target_event_id=event_id("dongguan", 2))
    _, refused = decide([theirs, mine, stolen, ahead, missing])
    assert refused == {2: "not_the_target", 3: "unknown_target", 4: "unknown_target"}


def test_the_type_must_be_the_targets_and_correctable() -> None:
    fund = fact("dongguan", 1, 1, "fund.received", **FUND)
    spent = corrected("dongguan", 2, 2, fund, **FUND)
    wrong_type = Fact(
        "dongguan",
        2,
        at(2),
        "record.corrected",
        convert_payload(
            "record.corrected",
            {
                "target_seq": 1,
                "target_event_id": fund.event_id,
                "reason": "x",
                "replacement": {
                    "type": "fund.spent",
                    "org_id": "dongguan",
                    "amount_fen": 1,
                    "purpose": "房租",
                },
            },
        ),
        event_id("dongguan", 2),
    )
    rotated = fact("dongguan", 3, 2, "node.key_rotated", new_key_id="0" * 16, new_public_key="1" * 64)
    rotation = Fact(
        "dongguan",
        4,
        at(3),
        "record.voided",
        convert_payload(
            "record.voided",
            {
                "target_seq": 3,
                "target_event_id": rotated.event_id,
                "target_type": "fund.received",
                "reason": "x",
            },
        ),
        event_id("dongguan", 4),
    )
    assert spent.body.target_type == "fund.received"  # type: ignore[attr-defined]
    _, refused = decide([fund, wrong_type, rotated, rotation])
    assert refused == {2: "not_the_target", 4: "not_the_target"}


def test_a_correction_may_not_occur_before_what_it_supersedes() -> None:
    fund = fact("dongguan", 1, 5, "fund.received", **FUND)
    early = corrected("dongguan", 2, 4, fund, **FUND | {"amount_fen": 1})
    later = corrected("dongguan", 3, 8, fund, **FUND | {"amount_fen": 2})
    backdated = corrected("dongguan", 4, 7, fund, **FUND | {"amount_fen": 3})
    facts, refused = decide([fund, early, later, backdated])
    assert refused == {2: "before_target", 4: "before_target"}
    assert facts[0].body.amount_fen == 2  # type: ignore[attr-defined]


def test_the_replacement_is_judged_by_its_types_rule() -> None:
    fund = fact("dongguan", 1, 1, "fund.received", **FUND)
    elsewhere = corrected("dongguan", 2, 2, fund, **FUND | {"org_id": "beijing"})
    found = resolve([fund, elsewhere], Speaker.default)
    ((_, refusal),) = found.refused
    assert refusal.reason == "not_own_org"
    assert refusal.detail.startswith("payload.replacement.org_id")
    assert found.facts == [fund]


def test_a_member_event_stays_about_its_member_and_keeps_its_personal_data() -> None:
    reg = fact("dongguan", 1, 1, "member.registered", **REG)
    moved = fact(
        "dongguan", 2, 2, "member.moved", member_id=M, host_location="东莞长安", outstation="dongguan"
    )
    other = corrected("dongguan", 3, 3, moved, member_id=OTHER, host_location="东莞长安")
    renamed = corrected(
        "dongguan", 4, 3, reg, **REG | {"personal": {"name": "别人", "id_number": "11010519491231002X"}}
    )
    branch = corrected("dongguan", 5, 3, reg, **REG | {"home_branch": "v2"})
    no_void = voided("dongguan", 6, 3, reg, target_type="member.returned")
    facts, refused = decide([reg, moved, other, renamed, branch, no_void], ("member_id", M))
    assert refused == {3: "changes_subject", 4: "changes_personal", 6: "not_the_target"}
    assert {f.body.home_branch for f in facts if f.type == "member.registered"} == {"v2"}  # type: ignore[attr-defined]


def test_the_timeline_shows_the_original_until_the_correction_and_the_correction_after() -> None:
    reg = fact("dongguan", 1, 1, "member.registered", **REG)
    returned = fact("dongguan", 2, 3, "member.returned", member_id=M)
    void = voided("dongguan", 3, 10, returned)
    fix = corrected("dongguan", 4, 12, reg, **REG | {"home_branch": "v2"})
    facts = [reg, returned, void, fix]
    speakers = Speakers()
    screened = screen_entity(MEMBER, M, facts, speakers)
    found = history(M, screened.admitted)
    assert found is not None
    assert found.row["status"] == "out" and found.row["home_branch"] == "v2"
    timeline = spliced(M, facts, speakers, found.timeline)
    states = [(r["valid_from"], r["valid_to"], r["status"], r["home_branch"]) for r in timeline]
    assert states == [
        (at(1), at(3), "out", "v1"),
        (at(3), at(10), "returned", "v1"),  # as of day 5 the return still stood
        (at(10), at(12), "out", "v1"),
        (at(12), None, "out", "v2"),
    ]
    for day in (2, 5, 11, 13):
        by_then = [f for f in facts if f.occurred_at <= at(day)]
        alone = history(M, screen_entity(MEMBER, M, by_then, speakers).admitted)
        assert alone is not None
        row = next(r for r in timeline if r["valid_from"] <= at(day) and (r["valid_to"] or "~") > at(day))
        assert (row["status"], row["home_branch"]) == (alone.row["status"], alone.row["home_branch"])
