"""Corrections at the county (docs/authority.md §6), on SQLite and PostgreSQL: a corrected amount
changes the fund figure, a voided return puts the member back on the roster and a corrected
orglife drops an attendee — from the correction's business time on; `as_of` before it shows the
original; the live digest equals a rebuild and a replay; the member card shows both; a correction
the county refuses leaves the original and is listed.

    day 1  the county office registers the orgs; dongguan registers m1, m2
    day 3  dongguan: fund 1,000 fen            day 4  m2 returned
    day 5  orglife (m1, m2); legal consultation for 10 people
    day 10 dongguan: the fund corrected to 100,000 fen; m2's return voided; the orglife corrected
           to m1 alone; the legal consultation voided; a fund correction to huadu's org (refused)
    day 12 the fund corrected again, to 50,000 fen (the newer supersedes)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from services.county.api.app import create_app
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections.claims import refused_claims
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from shared import envelope
from tests.accounts import CountyClient
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import ORG_TREE, TEST_KEYS, deliver_keys, enrol_nodes, open_node, record, subject
from tests.ids import member_id
from tests.samples import id_number

M = {i: member_id(bytes.fromhex(COUNTY_SECRET), id_number(300 + i)) for i in (1, 2)}


def day(n: int) -> str:
    return f"2026-03-{n:02d}"


def at(n: int, hm: str = "10:00") -> str:
    return f"{day(n)}T{hm}:00+08:00"


def ev(type_: str, n: int, **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": at(n), "payload": payload}


def registration(i: int) -> dict[str, Any]:
    payload = {
        "member_id": M[i],
        "personal": {"name": f"成员{i}", "id_number": id_number(300 + i)},
        "home_branch": "v1",
        "outstation": "dongguan",
        "host_location": "广东东莞",
        "flowed_out_on": "2019-03-01",
    }
    return {"type": "member.registered", "occurred_at": at(1, "09:00"), "payload": payload}


def corrected(env: envelope.Envelope, n: int, reason: str, **changes: Any) -> dict[str, Any]:
    replacement = json.loads(bytes(env.payload)) | changes
    payload = {
        "target_seq": env.seq,
        "target_event_id": env.event_id,
        "reason": reason,
        "replacement": replacement,
    }
    return {"type": "record.corrected", "occurred_at": at(n), "payload": payload}


def voided(env: envelope.Envelope, n: int, reason: str) -> dict[str, Any]:
    payload = {
        "target_seq": env.seq,
        "target_event_id": env.event_id,
        "target_type": env.type,
        "reason": reason,
    }
    return {"type": "record.voided", "occurred_at": at(n), "payload": payload}


@dataclass
class County:
    engine: Engine
    client: TestClient
    refs: dict[str, envelope.Envelope]

    def get(self, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def fund(self, **params: Any) -> int:
        return int(self.get("/api/v1/figures/funds", **params)["total"]["received_total"])

    def legal(self, **params: Any) -> int:
        return int(self.get("/api/v1/figures/pioneer", **params)["total"]["legal.consulted"]["people"])


@pytest.fixture
def county(county_engine: Engine, tmp_path: Path) -> Iterator[County]:
    office, dg = open_node(tmp_path, "county"), open_node(tmp_path, "dongguan")
    ingestor = Ingestor(county_engine, "jx")
    try:
        orgs = record(
            office,
            [
                ev("org.registered", 1, org_id=o, name=name, kind=k, **({"parent_id": p} if p else {}), **x)
                for o, name, k, p, x in ORG_TREE
            ],
        )
        first = record(
            dg,
            [
                registration(1),
                registration(2),
                ev("fund.received", 3, org_id="dongguan", source="fiscal", amount_fen=1_000),
                ev("member.returned", 4, member_id=M[2]),
                ev(
                    "orglife.held",
                    5,
                    org_id="dongguan",
                    kind="theme_day",
                    topic="学习",
                    attendees=[M[1], M[2]],
                ),
                ev("legal.consulted", 5, org_id="dongguan", people=10),
            ],
        )
        refs = {e.type: e for e in map(envelope.decode, first)}
        fund, returned, orglife = refs["fund.received"], refs["member.returned"], refs["orglife.held"]
        tenth = record(
            dg,
            [
                corrected(fund, 10, "金额录入错误", amount_fen=100_000),
                voided(returned, 10, "误录：该党员未返乡"),
                corrected(orglife, 10, "成员2未参加", attendees=[M[1]]),
                voided(refs["legal.consulted"], 10, "重复录入"),
                corrected(fund, 10, "记到花都", org_id="huadu"),  # not dongguan's to say: refused
            ],
        )
        twelfth = record(dg, [corrected(fund, 12, "再次核对", amount_fen=50_000)])
        deliver_keys(county_engine, office, dg)
    finally:
        office.close()
        dg.close()
    enrol_nodes(county_engine, office, dg, office="county")
    for data, n in ((orgs, 1), (first, 5), (tenth, 10), (twelfth, 12)):
        arrival = f"{day(n)}T04:00:00.000000Z"
        outcomes = ingestor.process([Incoming(d, subject(envelope.decode(d).node_id), arrival) for d in data])
        assert set(outcomes) == {"archived"}
    refs |= {f"fix{i}": envelope.decode(d) for i, d in enumerate(tenth + twelfth)}
    yield County(county_engine, CountyClient(create_app(county_engine, personal=TEST_KEYS)), refs)


def test_the_fund_figure_follows_the_newest_correction_from_its_business_time_on(county: County) -> None:
    assert county.fund() == 50_000
    assert county.fund(as_of=day(9)) == 1_000, "as of before the correction: the original"
    assert county.fund(as_of=day(11)) == 100_000
    assert county.fund(as_of=day(12)) == 50_000
    assert county.legal() == 0 and county.legal(as_of=day(9)) == 10
    by_month = county.get("/api/v1/figures/funds", group_by="month")["groups"]
    assert [(g["key"], g["received_total"]) for g in by_month] == [("2026-03", 50_000)]


def test_a_voided_return_and_a_corrected_orglife_change_the_roster_and_attendance(county: County) -> None:
    m2 = county.get(f"/api/v1/members/{M[2]}")
    assert m2["status"] == "out"
    assert county.get(f"/api/v1/members/{M[2]}", as_of=day(9))["status"] == "returned"
    assert m2["activity"]["last_orglife_at"] is None, "m2 no longer attended"
    assert county.get(f"/api/v1/members/{M[2]}", as_of=day(9))["activity"]["last_orglife_at"] is not None
    assert county.get(f"/api/v1/members/{M[1]}")["activity"]["last_orglife_at"] is not None
    assert county.get("/api/v1/roster")["by_status"]["returned"] == 0
    assert county.get("/api/v1/roster", as_of=day(11))["by_status"]["returned"] == 0
    assert county.get("/api/v1/roster", as_of=day(9))["by_status"]["returned"] == 1


def test_the_member_card_shows_the_original_and_its_void(county: County) -> None:
    history = county.get(f"/api/v1/members/{M[2]}")["history"]
    returned = county.refs["member.returned"]
    original = next(e for e in history if e["seq"] == returned.seq)
    assert original["type"] == "member.returned" and original["state"] == "voided"
    (void,) = original["corrections"]
    assert void["type"] == "record.voided" and void["reason"] == "误录：该党员未返乡" and void["stands"]
    fix = next(e for e in history if e["type"] == "record.voided")
    assert fix["corrects"] == returned.seq and fix["reason"] == "误录：该党员未返乡"
    before = county.get(f"/api/v1/members/{M[2]}", as_of=day(9))["history"]
    assert [e["type"] for e in before] == ["member.registered", "member.returned"]
    assert before[1]["state"] is None


def test_a_refused_correction_leaves_the_original_and_is_listed(county: County) -> None:
    with county.engine.connect() as conn:
        rows = conn.execute(
            select(refused_claims.c.seq, refused_claims.c.reason, refused_claims.c.detail)
        ).all()
    assert len(rows) == 1
    ((seq, reason, detail),) = rows
    assert seq == county.refs["fix4"].seq
    assert reason == "not_own_org" and detail.startswith("payload.replacement.org_id")


def test_rebuild_and_replay_give_the_live_digest_and_as_of_digests(county: County) -> None:
    live = county.get("/api/v1/audit/digest")
    assert county.get("/api/v1/audit/replay")["digest"] == live["digest"]
    for n in (4, 9, 10, 11, 12):
        as_of = county.get("/api/v1/audit/digest", as_of=day(n))
        replayed = county.get("/api/v1/audit/replay", as_of=day(n))
        assert replayed["as_of_digest"] == as_of["as_of_digest"], n
        assert replayed["roster"] == as_of["roster"], n
    known = county.get("/api/v1/audit/replay", known_at=f"{day(10)}T23:59:59+08:00")
    assert known["digest"] != live["digest"], "the day-12 correction had not arrived"
    with county.engine.begin() as conn:
        rebuild(conn)
        assert digest(conn) == live["digest"]
    assert county.fund() == 50_000 and county.fund(as_of=day(9)) == 1_000
