"""The county's query API over a real county DB fed by real branch nodes (SQLite and PostgreSQL).

One hand-checked scenario, recorded at a node `county` and ingested through the Ingestor:

    county 江县县委 ─┬─ t1 东乡镇党委 ─┬─ v1 东一村: m1 out, m2 out (moved to huadu), m3 returned
                    │                 ├─ v2 东二村: m4 contact_lost, m5 out (huadu), m6 out (no outstation)
                    │                 └─ huadu (outstation, industry_chain)
                    ├─ t2 西乡镇党委 ─┬─ v3 西一村: m7 transferred_out, m8 out (huadu), m10 out
                    │                 └─ c1 西乡镇商会
                    └─ dongguan (outstation, service_station) ── changan (host org)
    v9 is not registered: m9 out (dongguan) counts under "(未登记)".

A second node `dongguan` registers m1 again (a double registration) and records two legal
consultations; its seq 2 is withheld so that seq 3 is held behind a gap.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine

from services.branch_node.service import NodeService
from services.county.api.app import create_app
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from shared import envelope
from shared.signing import Signer
from tests.accounts import CountyClient
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import ORG_TREE, TEST_KEYS, deliver_keys, enrol_nodes, open_node, record, subject
from tests.ids import member_id
from tests.samples import id_number

AS_OF = "2026-11-27"
SECRET = bytes.fromhex(COUNTY_SECRET)
M = {i: member_id(SECRET, id_number(i)) for i in range(1, 11)}
CANDIDATE = {c: member_id(SECRET, id_number(c)) for c in (51, 52, 53, 54)}


def at(day: str, hm: str = "10:00") -> str:
    return f"{day}T{hm}:00+08:00"


def ev(type_: str, day: str, **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": at(day), "payload": payload}


ORGS = [*ORG_TREE, ("c1", "西乡镇商会", "township_chamber", "t2", {})]
# member: home branch, outstation, host location, host org
MEMBERS: dict[int, tuple[str, str | None, str, str | None]] = {
    1: ("v1", "dongguan", "广东东莞", "changan"),
    2: ("v1", "dongguan", "广东东莞", None),
    3: ("v1", "dongguan", "广东东莞", None),
    4: ("v2", "dongguan", "广东东莞", None),
    5: ("v2", "huadu", "广东花都", None),
    6: ("v2", None, "浙江义乌", None),
    7: ("v3", "dongguan", "广东东莞", None),
    8: ("v3", "huadu", "广东花都", None),
    9: ("v9", "dongguan", "广东东莞", None),
    10: ("v3", "dongguan", "广东东莞", None),
}


def registration(i: int, day: str = "2026-01-05") -> dict[str, Any]:
    branch, outstation, location, host_org = MEMBERS[i]
    payload: dict[str, Any] = {
        "member_id": M[i],  # given, as nodes draw ids at random
        "personal": {"name": f"成员{i:02d}", "id_number": id_number(i)},
        "home_branch": branch,
        "host_location": location,
        "occupation": "皮具加工",
        "flowed_out_on": "2019-03-01",
    }
    if outstation:
        payload["outstation"] = outstation
    if host_org:
        payload["host_org"] = host_org
    return {"type": "member.registered", "occurred_at": at(day, "09:00"), "payload": payload}


def scenario() -> list[dict[str, Any]]:
    orgs = [
        ev("org.registered", "2026-01-02", org_id=o, name=n, kind=k, **({"parent_id": p} if p else {}), **x)
        for o, n, k, p, x in ORGS
    ]
    review = "recruitment.reviewed"
    return [
        *orgs,
        *(registration(i) for i in MEMBERS),
        ev("post.cross_assigned", "2026-02-10", member_id=M[10], org_id="changan", post="支部委员"),
        *(
            ev("member.study_account_opened", "2026-02-20", member_id=M[i], account=f"acc{i}")
            for i in (1, 3, 5)
        ),
        ev("member.moved", "2026-03-01", member_id=M[2], outstation="huadu", host_location="广东花都"),
        ev("member.returned", "2026-04-01", member_id=M[3]),
        ev("member.contact_lost", "2026-05-01", member_id=M[4], last_contact_on="2026-04-20"),
        ev("member.transferred_out", "2026-06-01", member_id=M[7], to_org="长沙市某党支部"),
        # dual review: A and C await the second side; B is complete; D was rejected at home
        ev(
            review,
            "2026-07-01",
            candidate_id=CANDIDATE[51],
            org_id="dongguan",
            side="outstation",
            decision="approved",
        ),
        ev(
            review,
            "2026-07-01",
            candidate_id=CANDIDATE[52],
            org_id="dongguan",
            side="outstation",
            decision="approved",
        ),
        ev(review, "2026-07-15", candidate_id=CANDIDATE[52], org_id="v1", side="home", decision="approved"),
        ev(review, "2026-07-20", candidate_id=CANDIDATE[53], org_id="v1", side="home", decision="approved"),
        ev(
            review,
            "2026-07-01",
            candidate_id=CANDIDATE[54],
            org_id="dongguan",
            side="outstation",
            decision="approved",
        ),
        ev(review, "2026-07-16", candidate_id=CANDIDATE[54], org_id="v1", side="home", decision="rejected"),
        ev(
            "orglife.held",
            "2026-10-15",
            org_id="dongguan",
            kind="branch_meeting",
            topic="学习",
            attendees=[M[1], M[4], M[10]],
        ),
        ev(
            "orglife.held",
            "2026-07-01",
            org_id="huadu",
            kind="theme_day",
            topic="主题党日",
            attendees=[M[2], M[5]],
        ),
        ev(
            "training.held",
            "2026-03-10",
            org_id="county",
            mode="on_site",
            title="送学",
            attendees=[M[1], M[2], M[3], M[4]],
        ),
        ev(
            "training.held",
            "2026-09-01",
            org_id="huadu",
            mode="cloud",
            title="云党课",
            attendees=[M[2], M[5], M[8]],
        ),
        ev("training.held", "2025-12-20", org_id="dongguan", mode="special", title="专题", attendees=[M[9]]),
        ev("fund.received", "2026-02-01", org_id="county", source="fiscal", amount_fen=500_000),
        ev("fund.received", "2026-02-15", org_id="dongguan", source="dues_rebate", amount_fen=120_000),
        ev("fund.received", "2026-03-01", org_id="dongguan", source="member_donation", amount_fen=30_000),
        ev("fund.received", "2026-03-05", org_id="huadu", source="org_raised", amount_fen=80_000),
        ev("fund.received", "2026-04-01", org_id="dongguan", source="host_subsidy", amount_fen=200_000),
        ev("fund.received", "2026-08-01", org_id="dongguan", source="host_subsidy", amount_fen=50_000),
        ev("fund.spent", "2026-05-01", org_id="dongguan", amount_fen=150_000, purpose="活动阵地租金"),
        ev("fund.spent", "2026-06-01", org_id="huadu", amount_fen=20_000, purpose="培训资料"),
        ev(
            "returnee.invested",
            "2026-05-10",
            org_id="dongguan",
            enterprise="箱包厂",
            industry="皮具",
            amount_fen=500_000_000,
            jobs=120,
        ),
        ev("investment.lead", "2026-06-10", org_id="huadu", kind="project", title="皮具配件", households=30),
        ev("investment.lead", "2026-06-11", org_id="huadu", kind="information", title="用工信息"),
        ev("jobs.posted", "2026-03-01", org_id="dongguan", notices=5, positions=200),
        ev("jobs.placed", "2026-03-20", org_id="dongguan", people=48),
        ev(
            "donation.made",
            "2026-07-15",
            org_id="dongguan",
            cause="flood_relief",
            cash_fen=200_000,
            in_kind_fen=100_000,
        ),
        ev(
            "dispute.mediated",
            "2026-08-01",
            org_id="dongguan",
            category="wages",
            outcome="resolved",
            recovered_fen=1_500_000,
        ),
        ev("dispute.mediated", "2026-08-05", org_id="dongguan", category="injury", outcome="referred"),
        ev("service.provided", "2026-09-01", org_id="dongguan", line="legal", people=12),
        ev("service.provided", "2026-09-02", org_id="dongguan", line="labour", people=30),
        ev(
            "enterprise.founded",
            "2026-04-01",
            org_id="huadu",
            enterprise="花都皮具合作社",
            industry="皮具",
            households_enriched=15,
        ),
        ev("chamber.member_joined", "2026-05-01", org_id="c1", member_kind="company", name="西乡建材公司"),
        ev("chamber.funds_raised", "2026-05-02", org_id="c1", amount_fen=100_000),
        ev(
            "chamber.project_launched",
            "2026-05-03",
            org_id="c1",
            project="冷链仓库",
            industry="农产品",
            amount_fen=500_000,
        ),
    ]


def arriving(data: bytes, delay_s: int) -> Incoming:
    """The envelope arriving `delay_s` seconds after its node recorded it (negative: node clock ahead)."""
    env = envelope.decode(data)
    received = envelope.format_time(env.recorded + timedelta(seconds=delay_s))
    return Incoming(data, subject(env.node_id), received)


@dataclass
class County:
    engine: Engine
    client: TestClient
    ingestor: Ingestor
    county: list[bytes]
    dongguan: list[bytes]
    root: Path

    def get(self, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def county(county_engine: Engine, tmp_path: Path) -> Iterator[County]:
    node, dongguan = open_node(tmp_path, "county"), open_node(tmp_path, "dongguan")
    try:
        datas = record(node, scenario())
        dg = record(
            dongguan,
            [
                registration(1, day="2026-02-01"),
                ev("legal.consulted", "2026-08-10", org_id="dongguan", people=3),
                ev("legal.consulted", "2026-08-20", org_id="dongguan", people=4),
            ],
        )
        deliver_keys(county_engine, node, dongguan)
    finally:
        node.close()
        dongguan.close()
    # the node "county" records the whole scenario: enrolled as the county office and for every
    # organisation of the tree (what a node may say is tests/county/test_authority.py's to test)
    enrol_nodes(county_engine, node, dongguan, office="county", orgs={"county": [o for o, *_ in ORGS]})
    ingestor = Ingestor(county_engine, "jx")
    assert set(ingestor.process([arriving(d, 5) for d in datas])) == {"archived"}
    assert ingestor.process([arriving(dg[0], -120), arriving(dg[2], -60)]) == ["archived", "held"]
    altered = datas[2].replace("西乡镇党委".encode(), "北乡镇党委".encode())
    garbage = Incoming(b"not an envelope", subject("county"))
    assert ingestor.process([garbage, Incoming(altered, subject("county"))]) == ["quarantined"] * 2
    yield County(
        county_engine,
        CountyClient(create_app(county_engine, personal=TEST_KEYS)),
        ingestor,
        datas,
        dg,
        tmp_path,
    )


def statuses(
    out: int = 0, returned: int = 0, contact_lost: int = 0, transferred_out: int = 0
) -> dict[str, int]:
    return {
        "out": out,
        "returned": returned,
        "contact_lost": contact_lost,
        "transferred_out": transferred_out,
    }


def brief(children: list[dict[str, Any]]) -> list[tuple[Any, str, int, dict[str, int]]]:
    return [(c["id"], c["name"], c["total"], c["by_status"]) for c in children]


def test_roster_counts_agree_at_county_township_and_village_level(county: County) -> None:
    top = county.get("/api/v1/roster")
    assert (top["level"], top["id"], top["name"], top["total"]) == ("county", "county", "江县县委", 10)
    assert top["by_status"] == statuses(out=7, returned=1, contact_lost=1, transferred_out=1)
    assert brief(top["children"]) == [
        ("t1", "东乡镇党委", 6, statuses(out=4, returned=1, contact_lost=1)),
        ("t2", "西乡镇党委", 3, statuses(out=2, transferred_out=1)),
        (None, "(未登记)", 1, statuses(out=1)),
    ]
    t1 = county.get("/api/v1/roster", township="t1")
    assert (t1["level"], t1["name"], t1["total"]) == ("township", "东乡镇党委", 6)
    assert brief(t1["children"]) == [
        ("v1", "东一村党支部", 3, statuses(out=2, returned=1)),
        ("v2", "东二村党支部", 3, statuses(out=2, contact_lost=1)),
    ]
    unregistered = county.get("/api/v1/roster", township="-")
    assert (unregistered["id"], unregistered["total"]) == (None, 1)
    assert brief(unregistered["children"]) == [(None, "(未登记)", 1, statuses(out=1))]
    v3 = county.get("/api/v1/roster", village="v3")
    assert (v3["level"], v3["name"], v3["total"], v3["children"]) == ("village", "西一村党支部", 3, [])
    assert v3["by_status"] == statuses(out=2, transferred_out=1)
    assert [p["id"] for p in v3["path"]] == ["county", "t2", "v3"]
    for level in (top, t1, unregistered):
        assert sum(c["total"] for c in level["children"]) == level["total"]
        for status, n in level["by_status"].items():
            assert sum(c["by_status"][status] for c in level["children"]) == n

    huadu = county.get("/api/v1/roster", outstation="huadu")
    assert huadu["total"] == 3 and huadu["by_status"] == statuses(out=3)
    assert [c["total"] for c in huadu["children"]] == [2, 1]  # m2, m5 in t1; m8 in t2
    assert county.get("/api/v1/roster", township="t1", status="out")["total"] == 4
    assert county.get("/api/v1/roster", host_location="广东东莞")["total"] == 6

    missing = county.client.get("/api/v1/roster", params={"township": "t9"})
    assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "township"
    wrong_kind = county.client.get("/api/v1/roster", params={"township": "v1"})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["field"] == "township"


def test_roster_members_page_and_csv_export(county: County) -> None:
    t2 = county.get("/api/v1/roster/members", township="t2")
    assert t2["total"] == 3
    assert [m["name"] for m in t2["items"]] == ["成员07", "成员08", "成员10"]
    first = t2["items"][0]
    assert first["member_id"] == M[7] and first["status"] == "transferred_out"
    assert (first["village"], first["village_name"], first["township_name"]) == (
        "v3",
        "西一村党支部",
        "西乡镇党委",
    )
    assert first["outstation_name"] == "驻东莞服务站党支部"
    page = county.get("/api/v1/roster/members", limit=2, offset=1)
    assert page["total"] == 10 and [m["name"] for m in page["items"]] == ["成员02", "成员03"]
    assert page["items"][0]["outstation"] == "huadu" and page["items"][0]["host_location"] == "广东花都"

    response = county.client.get("/api/v1/roster/members.csv", params={"township": "t2"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0])[:5] == ["序号", "姓名", "身份证号", "手机号", "状态"]
    assert [(r["序号"], r["姓名"], r["状态"], r["村（社区）党支部"]) for r in rows] == [
        ("1", "成员07", "转出", "西一村党支部"),
        ("2", "成员08", "外出", "西一村党支部"),
        ("3", "成员10", "外出", "西一村党支部"),
    ]
    assert rows[2]["成员编号"] == M[10] and rows[2]["状态起始"] == "2026-01-05 09:00"  # China Standard Time
    nowhere = county.client.get("/api/v1/roster/members.csv", params={"village": "-"}).content
    (m9,) = csv.DictReader(io.StringIO(nowhere.decode("utf-8-sig")))
    home = county.get(f"/api/v1/members/{M[9]}")["home_branch"]
    assert (m9["姓名"], m9["村（社区）党支部"], m9["乡镇"]) == ("成员09", home, "(未登记)")  # its code


def test_member_card(county: County) -> None:
    card = county.get(f"/api/v1/members/{M[1]}")
    assert (card["name"], card["status"], card["village"], card["township"]) == ("成员01", "out", "v1", "t1")
    assert (card["outstation"], card["host_org_name"], card["study_account"]) == (
        "dongguan",
        "东莞市长安镇党委",
        True,
    )
    assert [(c["org_id"], c["role"], c["name"]) for c in card["co_managers"]] == [
        ("changan", "host_org", "东莞市长安镇党委"),
        ("dongguan", "outstation", "驻东莞服务站党支部"),
    ]
    assert card["activity"] == {
        "last_orglife_at": "2026-10-15T02:00:00.000000Z",
        "last_trained_at": "2026-03-10T02:00:00.000000Z",
        "trained_years": [2026],
    }
    (conflict,) = card["conflicts"]
    assert conflict["kind"] == "double_registration" and conflict["detail"] == {
        "nodes": ["county", "dongguan"]
    }
    assert [e["type"] for e in card["history"]] == ["member.registered"] * 2 + ["member.study_account_opened"]
    assert [e["node_id"] for e in card["history"]][:2] == ["county", "dongguan"]
    assert card["recruitment"] is None
    assert county.get(f"/api/v1/members/{M[6]}")["activity"]["last_orglife_at"] is None

    unknown = county.client.get(f"/api/v1/members/{'0' * 32}")
    assert unknown.status_code == 404 and unknown.json()["detail"] == [
        {"field": "member_id", "message": f"no member {'0' * 32} on the roster"}
    ]


def test_dual_management_by_member_and_by_organisation(county: County) -> None:
    moved = county.get(f"/api/v1/members/{M[2]}/co-managers")
    assert moved["affiliation"] == {
        "org_id": "v1",
        "name": "东一村党支部",
        "kind": "village_branch",
        "township": "t1",
        "township_name": "东乡镇党委",
    }
    assert [(c["org_id"], c["role"]) for c in moved["co_managers"]] == [("huadu", "outstation")]
    assert county.get(f"/api/v1/members/{M[3]}/co-managers")["co_managers"] == []  # returned
    m10 = county.get(f"/api/v1/members/{M[10]}/co-managers")["co_managers"]
    assert [(c["org_id"], c["role"], c["post"]) for c in m10] == [
        ("changan", "cross_post", "支部委员"),
        ("dongguan", "outstation", ""),
    ]

    def names(org: str) -> dict[str, list[str]]:
        found = county.get(f"/api/v1/orgs/{org}/co-managed")
        return {role: [m["name"] for m in ms] for role, ms in found["co_managed"].items()}

    assert names("dongguan") == {
        "outstation": ["成员01", "成员04", "成员09", "成员10"],
        "host_org": [],
        "cross_post": [],
    }
    assert names("huadu") == {"outstation": ["成员02", "成员05", "成员08"], "host_org": [], "cross_post": []}
    assert names("changan") == {"outstation": [], "host_org": ["成员01"], "cross_post": ["成员10"]}
    v1 = county.get("/api/v1/orgs/v1/co-managed")
    assert v1["counts"] == {"affiliated": 3, "outstation": 0, "host_org": 0, "cross_post": 0}
    assert county.client.get("/api/v1/orgs/nowhere/co-managed").json()["detail"][0]["field"] == "org_id"
    orgs = county.get("/api/v1/orgs", kind="outstation")["items"]
    assert [(o["org_id"], o["mode"], o["township"]) for o in orgs] == [
        ("dongguan", "service_station", None),
        ("huadu", "industry_chain", "t1"),
    ]


def test_alerts_of_every_kind(county: County) -> None:
    found = county.get("/api/v1/alerts", as_of=AS_OF)
    assert found["counts"] == {
        "no_orglife_90d": 5,  # m2, m5 (orglife 2026-07-01), m6, m8, m9 (never)
        "untrained_this_year": 3,  # m6, m9 (trained in 2025 only), m10
        "contact_lost": 1,  # m4
        "recruitment_awaiting_second_review": 2,  # candidates 51 (outstation) and 53 (home)
        "no_outstation": 1,  # m6
    }
    assert found["total"] == 12

    def items(**params: Any) -> list[dict[str, Any]]:
        return list(county.get("/api/v1/alerts", as_of=AS_OF, **params)["items"])

    no_orglife = items(kind="no_orglife_90d")
    assert [i["name"] for i in no_orglife] == ["成员02", "成员05", "成员06", "成员08", "成员09"]
    assert no_orglife[0]["detail"] == {"last_orglife_at": "2026-07-01T02:00:00.000000Z"}
    assert no_orglife[2]["detail"] == {"last_orglife_at": None}
    assert [i["name"] for i in items(kind="untrained_this_year")] == ["成员06", "成员09", "成员10"]
    assert [(i["name"], i["detail"]["since"]) for i in items(kind="contact_lost")] == [
        ("成员04", "2026-05-01T02:00:00.000000Z")
    ]
    assert [i["member_id"] for i in items(kind="no_outstation")] == [M[6]]
    recruits = items(kind="recruitment_awaiting_second_review")
    assert {
        i["member_id"]: (i["detail"]["approved_side"], i["detail"]["awaiting_side"]) for i in recruits
    } == {
        CANDIDATE[51]: ("outstation", "home"),
        CANDIDATE[53]: ("home", "outstation"),
    }
    # the 90-day window: orglife on 2026-07-01 is within 90 days of 2026-09-29, not of 2026-09-30
    # as_of is business time: the roster and attendance as they stood then (m1, m4, m10's
    # orglife on 10-15 had not happened yet; on 2025-12-31 nobody was registered)
    assert county.get("/api/v1/alerts", as_of="2026-09-29")["counts"]["no_orglife_90d"] == 6
    assert county.get("/api/v1/alerts", as_of="2026-09-30")["counts"]["no_orglife_90d"] == 8
    assert county.get("/api/v1/alerts", as_of="2025-12-31")["counts"]["untrained_this_year"] == 0
    t1 = county.get("/api/v1/alerts", as_of=AS_OF, township="t1")["counts"]
    assert t1 == {
        "no_orglife_90d": 3,
        "untrained_this_year": 1,
        "contact_lost": 1,
        "recruitment_awaiting_second_review": 1,
        "no_outstation": 1,
    }
    paged = county.get("/api/v1/alerts", as_of=AS_OF, limit=2, offset=4)
    assert paged["total"] == 12 and [(i["kind"], i["name"]) for i in paged["items"]] == [
        ("no_orglife_90d", "成员09"),
        ("untrained_this_year", "成员06"),
    ]


def test_funds_by_source_balance_and_groups(county: County) -> None:
    total = county.get("/api/v1/figures/funds")["total"]
    assert total == {
        "received": {
            "fiscal": 500_000,
            "dues_rebate": 120_000,
            "member_donation": 30_000,
            "org_raised": 80_000,
            "host_subsidy": 250_000,
        },
        "received_total": 980_000,
        "spent": 170_000,
        "balance": 810_000,
        "received_events": 6,
        "spendings": 2,
    }

    def balances(**params: Any) -> list[tuple[Any, str, int, int, int]]:
        groups = county.get("/api/v1/figures/funds", **params)["groups"]
        return [(g["key"], g["name"], g["received_total"], g["spent"], g["balance"]) for g in groups]

    assert balances(group_by="org") == [
        ("county", "江县县委", 500_000, 0, 500_000),
        ("dongguan", "驻东莞服务站党支部", 400_000, 150_000, 250_000),
        ("huadu", "驻花都皮具产业链党支部", 80_000, 20_000, 60_000),
    ]
    assert balances(group_by="township") == [
        ("t1", "东乡镇党委", 80_000, 20_000, 60_000),
        (None, "(无)", 900_000, 150_000, 750_000),
    ]
    assert balances(group_by="mode") == [
        ("industry_chain", "industry_chain", 80_000, 20_000, 60_000),
        ("service_station", "service_station", 400_000, 150_000, 250_000),
        (None, "(无)", 500_000, 0, 500_000),
    ]
    assert [(k, r, s) for k, _, r, s, _ in balances(group_by="month")] == [
        ("2026-02", 620_000, 0),
        ("2026-03", 110_000, 0),
        ("2026-04", 200_000, 0),
        ("2026-05", 0, 150_000),
        ("2026-06", 0, 20_000),
        ("2026-08", 50_000, 0),
    ]
    spring = county.get("/api/v1/figures/funds", **{"from": "2026-03-01", "to": "2026-06-30"})["total"]
    assert (spring["received"]["host_subsidy"], spring["received_total"], spring["balance"]) == (
        200_000,
        310_000,
        140_000,
    )
    assert county.get("/api/v1/figures/funds", township="t1")["total"]["balance"] == 60_000
    assert county.get("/api/v1/figures/funds", mode="service_station")["total"]["received_total"] == 400_000
    assert county.get("/api/v1/figures/funds", org="huadu")["total"]["spent"] == 20_000
    before = county.get("/api/v1/figures/funds", known_at="2020-01-01T00:00:00Z")["total"]
    assert before["received_total"] == 0 and before["spent"] == 0


def test_pioneer_figures(county: County) -> None:
    p = county.get("/api/v1/figures/pioneer")["total"]
    assert p["returnee.invested"] == {
        "events": 1,
        "amount_fen": 500_000_000,
        "jobs": 120,
        "by_industry": {"皮具": {"events": 1, "amount_fen": 500_000_000, "jobs": 120}},
    }
    assert p["investment.lead"]["households"] == 30 and p["investment.lead"]["by_kind"] == {
        "information": {"events": 1, "households": 0},
        "project": {"events": 1, "households": 30},
        "industry": {"events": 0, "households": 0},
        "households_enriched": {"events": 0, "households": 0},
    }
    assert p["jobs.posted"] == {"events": 1, "notices": 5} and p["jobs.placed"] == {"events": 1, "people": 48}
    assert p["donation.made"]["amount_fen"] == 300_000
    assert p["donation.made"]["by_cause"]["flood_relief"] == {"events": 1, "amount_fen": 300_000}
    assert p["dispute.mediated"]["events"] == 2 and p["dispute.mediated"]["recovered_fen"] == 1_500_000
    assert p["dispute.mediated"]["by_outcome"]["referred"] == {"events": 1, "recovered_fen": 0}
    assert p["legal.consulted"] == {"events": 0, "people": 0}  # dongguan's are behind a gap: not projected
    assert p["service.provided"]["people"] == 42
    assert p["service.provided"]["by_line"]["labour"] == {"events": 1, "people": 30}
    assert p["enterprise.founded"] == {
        "events": 1,
        "households": 15,
        "by_industry": {"皮具": {"events": 1, "households": 15}},
    }
    assert p["chamber.member_joined"]["by_kind"]["company"] == {"events": 1}
    assert p["chamber.funds_raised"] == {"events": 1, "amount_fen": 100_000}
    assert p["chamber.project_launched"]["amount_fen"] == 500_000
    groups = {g["key"]: g for g in county.get("/api/v1/figures/pioneer", group_by="township")["groups"]}
    assert list(groups) == ["t1", "t2", None]
    assert groups["t1"]["investment.lead"]["events"] == 2 and groups["t1"]["jobs.placed"]["people"] == 0
    assert groups["t2"]["chamber.funds_raised"]["amount_fen"] == 100_000
    assert groups[None]["jobs.placed"]["people"] == 48
    huadu = county.get("/api/v1/figures/pioneer", org="huadu")["total"]
    assert huadu["investment.lead"]["events"] == 2 and huadu["returnee.invested"]["events"] == 0


def test_education_sessions_coverage_and_study_accounts(county: County) -> None:
    edu = county.get("/api/v1/figures/education", year=2026)["total"]
    assert edu["training"] == {
        "sessions": 3,
        "attendances": 8,
        "by_mode": {
            "on_site": {"sessions": 1, "attendances": 4},
            "cloud": {"sessions": 1, "attendances": 3},
            "special": {"sessions": 1, "attendances": 1},
        },
    }
    assert (edu["orglife"]["sessions"], edu["orglife"]["attendances"]) == (2, 5)
    # away (out or contact lost): m1 m2 m4 m5 m6 m8 m9 m10; trained in 2026: m1 m2 m4 m5 m8 (m3 returned)
    assert edu["coverage"] == {"year": 2026, "roster": 8, "trained": 5, "rate": 0.625}
    assert edu["study_accounts"] == {"roster": 8, "opened": 2, "rate": 0.25}  # m1, m5 (m3 returned)
    assert county.get("/api/v1/figures/education", year=2025)["total"]["coverage"]["trained"] == 1
    this_year = county.get("/api/v1/figures/education", **{"from": "2026-01-01"})["total"]
    assert (this_year["training"]["sessions"], this_year["training"]["attendances"]) == (2, 7)
    assert this_year["coverage"]["year"] == 2026

    groups = county.get("/api/v1/figures/education", year=2026, group_by="township")["groups"]
    assert [
        (g["key"], g["coverage"]["roster"], g["coverage"]["trained"], g["coverage"]["rate"]) for g in groups
    ] == [
        ("t1", 5, 4, 0.8),
        ("t2", 2, 1, 0.5),
        (None, 1, 0, 0.0),
    ]
    assert groups[0]["training"]["by_mode"]["cloud"] == {"sessions": 1, "attendances": 3}
    assert groups[0]["study_accounts"]["opened"] == 2
    months = county.get("/api/v1/figures/education", group_by="month")["groups"]
    assert [g["key"] for g in months] == ["2025-12", "2026-03", "2026-07", "2026-09", "2026-10"]
    assert months[0]["coverage"] is None


def test_node_health_shows_the_gap_until_it_fills(county: County) -> None:
    nodes = county.get("/api/v1/nodes")
    assert nodes["unattributed_quarantined"] == 0  # the garbage came on the county node's subject
    home, dongguan = nodes["items"]
    assert (home["node_id"], home["last_seq"], home["held"], home["gaps"]) == (
        "county",
        len(county.county),
        0,
        [],
    )
    assert (home["quarantined"], home["lag_s"], home["max_skew_s"]) == (2, 5, 0)  # garbage counts too
    assert (dongguan["last_seq"], dongguan["held"], dongguan["quarantined"]) == (1, 1, 0)
    assert dongguan["gaps"] == [{"from": 2, "to": 2, "missing": 1}]
    assert (dongguan["max_skew_s"], dongguan["lag_s"]) == (120, -120)  # its clock runs 2 minutes ahead
    assert dongguan["last_heard"] > dongguan["last_seen"]  # seq 3 arrived, though it is held
    assert home["last_receipt"] is None and dongguan["last_receipt"] is None  # ingested unsigned
    one = county.get("/api/v1/nodes/dongguan")
    assert {**one, "silent_s": None} == {**dongguan, "silent_s": None}
    assert county.client.get("/api/v1/nodes/nowhere").json()["detail"][0]["field"] == "node_id"

    # the gap fills at a county that signs receipts: dongguan's head, seq 3, gets one
    signed = Ingestor(county.engine, "jx", Signer.generate())
    assert signed.process([arriving(county.dongguan[1], -120)]) == ["archived"]
    (issued,) = signed.outbox
    filled = county.get("/api/v1/nodes/dongguan")
    assert (filled["last_seq"], filled["held"], filled["gaps"]) == (3, 0, [])
    assert filled["last_receipt"] == {"seq": 3, "issued_at": issued.issued_at} and issued.seq == 3
    listed = {n["node_id"]: n["last_receipt"] for n in county.get("/api/v1/nodes")["items"]}
    assert listed == {"county": None, "dongguan": filled["last_receipt"]}
    assert county.get("/api/v1/figures/pioneer")["total"]["legal.consulted"] == {"events": 2, "people": 7}
    # a later batch: the latest of the node's receipts
    node = NodeService(county.root / "dongguan")
    try:
        (more,) = record(node, [ev("legal.consulted", "2026-08-30", org_id="dongguan", people=1)])
    finally:
        node.close()
    assert signed.process([arriving(more, 5)]) == ["archived"]
    assert [r.seq for r in signed.outbox] == [3, 4]
    last = county.get("/api/v1/nodes/dongguan")["last_receipt"]
    assert last == {"seq": 4, "issued_at": signed.outbox[1].issued_at}


def test_conflicts_and_quarantine(county: County) -> None:
    envs = [envelope.decode(d) for d in county.county]
    (registered_m1,) = (
        e.seq
        for e in envs
        if e.type == "member.registered" and json.loads(bytes(e.payload))["member_id"] == M[1]
    )
    conflicts = county.get("/api/v1/conflicts")
    assert conflicts["total"] == 1
    (c,) = conflicts["items"]
    assert (c["kind"], c["subject"], c["member_name"]) == ("double_registration", f"m:{M[1]}", "成员01")
    assert c["events"] == [f"county:{registered_m1}", "dongguan:1"]
    assert county.get("/api/v1/conflicts", kind="contradictory_status")["total"] == 0

    open_ = county.get("/api/v1/quarantine")
    assert open_["total"] == 2
    garbage, altered = open_["items"]
    assert (garbage["reason"], garbage["node_id"], garbage["raw_length"]) == ("malformed", "county", 15)
    assert garbage["preview_text"] == "not an envelope" and garbage["preview_hex"] == b"not an envelope".hex()
    assert (altered["reason"], altered["node_id"], altered["seq"]) == ("altered", "county", 3)
    assert "北乡镇党委" in altered["preview_text"] and "raw" not in altered

    hainan = open_node(county.root, "hainan")
    try:
        (data,) = record(
            hainan, [ev("org.secretary_appointed", "2026-11-01", org_id="hainan", name="王书记")]
        )
    finally:
        hainan.close()
    assert county.ingestor.process([Incoming(data, subject("hainan"))]) == ["quarantined"]
    assert county.get("/api/v1/quarantine", reason="unknown_node")["total"] == 1
    enrol_nodes(county.engine, hainan)
    assert county.ingestor.retry_quarantine() == (1, 2)
    assert county.get("/api/v1/quarantine")["total"] == 2
    everything = county.get("/api/v1/quarantine", all="true")
    assert everything["total"] == 3
    assert [q["resolved_at"] is not None for q in everything["items"]] == [False, False, True]
    assert county.get("/api/v1/quarantine", node_id="county")["total"] == 2, "the garbage on its subject too"


def test_digest_health_metrics_and_openapi(county: County) -> None:
    registry = CollectorRegistry()
    Counter("tongxin_county_ingested", "Messages ingested", registry=registry).inc(7)
    client = CountyClient(
        create_app(
            county.engine,
            health=lambda: {"nats_connected": True},
            metrics_registry=registry,
            personal=TEST_KEYS,
        )
    )
    assert client.get("/health").json() == {"nats_connected": True, "status": "ok", "database": "ok"}
    metrics = client.get("/metrics").text
    assert "tongxin_county_quarantine_open 2.0" in metrics
    assert 'tongxin_county_node_lag_seconds{node_id="county"} 5.0' in metrics
    assert 'tongxin_county_node_held{node_id="dongguan"} 1.0' in metrics
    assert "tongxin_county_ingested_total 7.0" in metrics

    live = client.get("/api/v1/digest").json()
    assert live["rows"]["members"] == 10 and live["rows"]["conflicts"] == 1
    with county.engine.begin() as conn:
        rebuild(conn)
        assert digest(conn) == live["digest"]

    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for op in operations.values():
            assert op.get("summary"), f"{path} has no summary"
    assert spec["components"]["schemas"]["Status"]["enum"] == [
        "out",
        "returned",
        "contact_lost",
        "transferred_out",
    ]
    assert spec["components"]["schemas"]["GroupBy"]["enum"] == ["org", "mode", "township", "month"]
    limit = next(
        p for p in spec["paths"]["/api/v1/roster/members"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/roster", {"status": "bogus"}, "status"),
        ("/api/v1/roster", {"township": "Not A Slug"}, "township"),
        ("/api/v1/roster/members", {"limit": "0"}, "limit"),
        ("/api/v1/roster/members", {"limit": "1001"}, "limit"),
        ("/api/v1/roster/members", {"offset": "-1"}, "offset"),
        ("/api/v1/figures/funds", {"from": "notadate"}, "from"),
        ("/api/v1/figures/funds", {"group_by": "x"}, "group_by"),
        ("/api/v1/figures/funds", {"mode": "bogus"}, "mode"),
        ("/api/v1/figures/funds", {"from": "2026-05-01", "to": "2026-04-01"}, "from"),
        ("/api/v1/figures/funds", {"known_at": "2026-01-01T00:00:00"}, "known_at"),
        ("/api/v1/figures/education", {"year": "1999"}, "year"),
        ("/api/v1/alerts", {"kind": "sleepy"}, "kind"),
        ("/api/v1/alerts", {"as_of": "2026-13-01"}, "as_of"),
        ("/api/v1/members/NOT-AN-ID", {}, "member_id"),
        ("/api/v1/orgs", {"kind": "club"}, "kind"),
        ("/api/v1/quarantine", {"all": "perhaps"}, "all"),
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    county_engine: Engine, url: str, params: dict[str, str], field: str
) -> None:
    response = CountyClient(create_app(county_engine, personal=TEST_KEYS)).get(url, params=params)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["detail"]] == [field]
