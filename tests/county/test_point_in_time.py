"""Point in time is bitemporal (DESIGN §6): `as_of` (business time) and `known_at` (arrival),
over a scripted March 2026 recorded at real nodes and ingested with explicit arrival times
(SQLite and PostgreSQL). Day N is 2026-03-0N / 2026-03-N; events happen at 10:00 China time and
arrive at 12:00 the same day, except the one late arrival.

    county 江县县委 ─┬─ t1 东乡镇党委 ─┬─ v1 东一村: m1, m2
                    │                 ├─ v2 东二村: m3, m4
                    │                 └─ huadu (outstation)
                    ├─ t2 西乡镇党委 ── v3 西一村: m5
                    └─ dongguan (outstation) ── changan (host org)

    day 1  county registers the orgs (08:00); dongguan registers m1 (host org changan), m2, m3
    day 2  huadu registers m4 and m5 (outstation huadu)
    day 3  dongguan: m2 moved to huadu                          ; fund 1,000 fen (dongguan)
    day 4  huadu: m4 returned — recorded offline, ARRIVES ON DAY 10
    day 5  huadu: m5 cross post at changan (offline, ARRIVES ON DAY 10) ; orglife at dongguan: m1, m3
    day 6  dongguan: m3 contact lost
    day 8                                                       ; fund 2,000 fen (dongguan)
    day 9                                                       ; orglife at dongguan: m1
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from services.branch_node.service import NodeService
from services.county.api.app import create_app
from services.county.audit.cli import app as audit_cli
from services.county.db.engine import make_engine
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections.digest import digest
from shared.catalog.base import CHINA_STANDARD_TIME
from tests.accounts import CountyClient
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import ORG_TREE, TEST_KEYS, deliver_keys, enrol_nodes, open_node, record, subject
from tests.ids import member_id
from tests.samples import id_number

SECRET = bytes.fromhex(COUNTY_SECRET)
M = {i: member_id(SECRET, id_number(100 + i)) for i in range(1, 7)}
DAYS = range(1, 12)


def day(n: int) -> str:
    return f"2026-03-{n:02d}"


def at(n: int, hm: str = "10:00") -> str:
    return f"{day(n)}T{hm}:00+08:00"


def end_of(n: int) -> str:
    return f"{day(n)}T23:59:59+08:00"


def arrival(n: int) -> str:
    """12:00 China time on day n, as the county stamps it (UTC)."""
    return f"{day(n)}T04:00:00.000000Z"


def ev(type_: str, n: int, hm: str = "10:00", **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": at(n, hm), "payload": payload}


ORGS = ORG_TREE


def registration(i: int, n: int, branch: str, outstation: str, host_org: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "member_id": M[i],  # given, as nodes draw ids at random
        "personal": {"name": f"成员{i}", "id_number": id_number(100 + i)},
        "home_branch": branch,
        "outstation": outstation,
        "host_location": "广东东莞" if outstation == "dongguan" else "广东花都",
        "occupation": "皮具加工",
        "flowed_out_on": "2019-03-01",
    }
    if host_org:
        payload["host_org"] = host_org
    return {"type": "member.registered", "occurred_at": at(n, "09:00"), "payload": payload}


@dataclass
class County:
    engine: Engine
    url: str
    client: TestClient
    ingestor: Ingestor
    root: Path

    def get(self, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def arrive(self, data: list[bytes], n: int, node_id: str) -> None:
        outcomes = self.ingestor.process([Incoming(d, subject(node_id), arrival(n)) for d in data])
        assert set(outcomes) == {"archived"}, outcomes


@pytest.fixture
def county(county_engine: Engine, county_db_url: str, tmp_path: Path) -> Iterator[County]:
    nodes = {n: open_node(tmp_path, n) for n in ("county", "dongguan", "huadu")}
    try:
        orgs = record(
            nodes["county"],
            [
                ev(
                    "org.registered",
                    1,
                    "08:00",
                    org_id=o,
                    name=name,
                    kind=k,
                    **({"parent_id": p} if p else {}),
                    **x,
                )
                for o, name, k, p, x in ORGS
            ],
        )
        dg = nodes["dongguan"]
        hd = nodes["huadu"]
        dg1 = record(
            dg,
            [
                registration(1, 1, "v1", "dongguan", host_org="changan"),
                registration(2, 1, "v1", "dongguan"),
                registration(3, 1, "v2", "dongguan"),
            ],
        )
        hd2 = record(hd, [registration(4, 2, "v2", "huadu"), registration(5, 2, "v3", "huadu")])
        dg3 = record(
            dg,
            [
                ev("member.moved", 3, member_id=M[2], outstation="huadu", host_location="广东花都"),
                ev("fund.received", 3, org_id="dongguan", source="fiscal", amount_fen=1_000),
            ],
        )
        hd4 = record(  # offline until day 10; m5 is huadu's member, so huadu records the post
            hd,
            [
                ev("member.returned", 4, member_id=M[4]),
                ev("post.cross_assigned", 5, member_id=M[5], org_id="changan", post="支部委员"),
            ],
        )
        dg5 = record(
            dg,
            [
                ev(
                    "orglife.held",
                    5,
                    org_id="dongguan",
                    kind="branch_meeting",
                    topic="学习",
                    attendees=[M[1], M[3]],
                ),
            ],
        )
        dg6 = record(dg, [ev("member.contact_lost", 6, member_id=M[3], last_contact_on=day(5))])
        dg8 = record(dg, [ev("fund.received", 8, org_id="dongguan", source="fiscal", amount_fen=2_000)])
        dg9 = record(
            dg,
            [ev("orglife.held", 9, org_id="dongguan", kind="theme_day", topic="主题党日", attendees=[M[1]])],
        )
        deliver_keys(county_engine, *nodes.values())
    finally:
        for node in nodes.values():
            node.close()
    enrol_nodes(county_engine, *nodes.values(), office="county")
    c = County(
        county_engine,
        county_db_url,
        CountyClient(create_app(county_engine, personal=TEST_KEYS)),
        Ingestor(county_engine, "jx"),
        tmp_path,
    )
    c.arrive(orgs, 1, "county")
    c.arrive(dg1, 1, "dongguan")
    c.arrive(hd2, 2, "huadu")
    c.arrive(dg3, 3, "dongguan")
    c.arrive(dg5, 5, "dongguan")
    c.arrive(dg6, 6, "dongguan")
    c.arrive(dg8, 8, "dongguan")
    c.arrive(dg9, 9, "dongguan")
    c.arrive(hd4, 10, "huadu")
    yield c


def S(out: int = 0, returned: int = 0, contact_lost: int = 0) -> dict[str, int]:
    return {"out": out, "returned": returned, "contact_lost": contact_lost, "transferred_out": 0}


@dataclass(frozen=True)
class Roster:
    county: dict[str, int]
    t1: dict[str, int]
    t2: dict[str, int]
    v1: dict[str, int]
    v2: dict[str, int]
    v3: dict[str, int]
    m2_outstation: str | None


# --- hand-computed: the roster as it stood at the end of each business day (everything known) ---
D1 = Roster(S(out=3), S(out=3), S(), S(out=2), S(out=1), S(), "dongguan")
D2 = Roster(S(out=5), S(out=4), S(out=1), S(out=2), S(out=2), S(out=1), "dongguan")
D3 = Roster(S(out=5), S(out=4), S(out=1), S(out=2), S(out=2), S(out=1), "huadu")  # m2 moved
D4 = Roster(
    S(out=4, returned=1), S(out=3, returned=1), S(out=1), S(out=2), S(out=1, returned=1), S(out=1), "huadu"
)
D6 = Roster(
    S(out=3, returned=1, contact_lost=1),
    S(out=2, returned=1, contact_lost=1),
    S(out=1),
    S(out=2),
    S(returned=1, contact_lost=1),
    S(out=1),
    "huadu",
)
AS_OF = {1: D1, 2: D2, 3: D3, 4: D4, 5: D4, 6: D6, 7: D6, 8: D6, 9: D6, 10: D6, 11: D6}

# --- hand-computed: the roster as the county knew it at the end of each day of arrival ---
K4 = Roster(S(out=5), S(out=4), S(out=1), S(out=2), S(out=2), S(out=1), "huadu")  # the return is late
K6 = Roster(
    S(out=4, contact_lost=1),
    S(out=3, contact_lost=1),
    S(out=1),
    S(out=2),
    S(out=1, contact_lost=1),
    S(out=1),
    "huadu",
)
KNOWN_AT = {1: D1, 2: D2, 3: D3, 4: K4, 5: K4, 6: K6, 7: K6, 8: K6, 9: K6, 10: D6, 11: D6}

# --- hand-computed: (as_of day, known_at day) combinations ---
BOTH = {
    (4, 9): K4,  # the return happened on day 4, but on day 9 the county had not heard of it
    (4, 10): D4,  # ... on day 10 it had: day 4 is corrected
    (6, 9): K6,
    (3, 2): D2,  # on day 2 the county did not know of the move on day 3 (nor could it)
    (2, 11): D2,
    (11, 1): D1,  # only day 1's registrations had arrived by the end of day 1
}


def roster(county: County, **params: Any) -> Roster:
    top = county.get("/api/v1/roster", **params)
    t1 = county.get("/api/v1/roster", township="t1", **params)
    t2 = county.get("/api/v1/roster", township="t2", **params)
    tw = {c["id"]: c for c in top["children"]}
    vs = {c["id"]: c for c in [*t1["children"], *t2["children"]]}
    assert [c["id"] for c in top["children"]] == ["t1", "t2"]
    assert sum(tw[x]["total"] for x in ("t1", "t2")) == top["total"]
    members = county.get("/api/v1/roster/members", village="v1", **params)["items"]
    m2 = [m["outstation"] for m in members if m["member_id"] == M[2]]
    return Roster(
        top["by_status"],
        tw["t1"]["by_status"],
        tw["t2"]["by_status"],
        vs["v1"]["by_status"],
        vs["v2"]["by_status"],
        vs["v3"]["by_status"],
        m2[0] if m2 else None,
    )


def test_roster_as_of_each_business_day(county: County) -> None:
    for n in DAYS:
        assert roster(county, as_of=day(n)) == AS_OF[n], f"as_of day {n}"
    # before anyone registered; a time in the middle of a day (before m4 returned at 10:00)
    assert roster(county, as_of=day(1) + "T08:59:00+08:00") == Roster(S(), S(), S(), S(), S(), S(), None)
    assert roster(county, as_of=at(4, "09:59")) == D3


def test_roster_known_at_each_day_of_arrival(county: County) -> None:
    for n in DAYS:
        assert roster(county, known_at=end_of(n)) == KNOWN_AT[n], f"known_at day {n}"
    # a date means the end of that China day; before the first arrival nothing is known
    assert roster(county, known_at=day(4)) == K4
    assert county.get("/api/v1/roster", known_at=at(1, "11:59"))["total"] == 0


def test_as_of_and_known_at_combine(county: County) -> None:
    for (as_of, known), expected in BOTH.items():
        assert roster(county, as_of=day(as_of), known_at=end_of(known)) == expected, (as_of, known)
    card = county.get(f"/api/v1/members/{M[4]}", as_of=day(5), known_at=end_of(9))
    assert (card["status"], card["status_since"]) == ("out", "2026-03-02T01:00:00.000000Z")
    card = county.get(f"/api/v1/members/{M[4]}", as_of=day(5), known_at=end_of(10))
    assert (card["status"], card["status_since"]) == ("returned", "2026-03-04T02:00:00.000000Z")
    assert [h["received_at"] for h in card["history"]] == [arrival(2), arrival(10)]


def test_dual_management_alerts_and_figures_as_of(county: County) -> None:
    def co(member: int, n: int) -> list[tuple[str, str]]:
        found = county.get(f"/api/v1/members/{M[member]}/co-managers", as_of=day(n))["co_managers"]
        return [(c["org_id"], c["role"]) for c in found]

    assert co(5, 4) == [("huadu", "outstation")]
    assert co(5, 5) == [("changan", "cross_post"), ("huadu", "outstation")]
    assert co(1, 1) == [("changan", "host_org"), ("dongguan", "outstation")]
    assert co(3, 6) == [("dongguan", "outstation")]  # contact lost: still co-managed
    assert co(4, 3) == [("huadu", "outstation")]
    assert co(4, 4) == []  # returned
    assert co(2, 2) == [("dongguan", "outstation")] and co(2, 3) == [("huadu", "outstation")]
    response = county.client.get(f"/api/v1/members/{M[4]}", params={"as_of": day(1)})
    assert response.status_code == 404 and response.json()["detail"][0]["field"] == "member_id"

    def managed(org: str, n: int) -> dict[str, list[str]]:
        found = county.get(f"/api/v1/orgs/{org}/co-managed", as_of=day(n))["co_managed"]
        return {role: [m["name"] for m in ms] for role, ms in found.items() if ms}

    assert managed("changan", 4) == {"host_org": ["成员1"]}
    assert managed("changan", 5) == {"host_org": ["成员1"], "cross_post": ["成员5"]}
    assert managed("huadu", 2) == {"outstation": ["成员4", "成员5"]}
    assert managed("huadu", 3) == {"outstation": ["成员2", "成员4", "成员5"]}
    assert managed("huadu", 4) == {"outstation": ["成员2", "成员5"]}
    assert county.get("/api/v1/orgs/v2/co-managed", as_of=day(1))["counts"]["affiliated"] == 1

    def alerts(n: int) -> dict[str, list[str]]:
        items = county.get("/api/v1/alerts", as_of=day(n))["items"]
        out: dict[str, list[str]] = {}
        for i in items:
            out.setdefault(i["kind"], []).append(i["name"])
        return out

    # day 4: away are m1, m2, m3, m5 (m4 returned); nobody had had organisational life yet
    assert alerts(4)["no_orglife_90d"] == ["成员1", "成员2", "成员3", "成员5"]
    # day 6: m1 and m3 attended on day 5; m3 lost contact that day
    assert alerts(6)["no_orglife_90d"] == ["成员2", "成员5"]
    lost = county.get("/api/v1/alerts", as_of=day(6), kind="contact_lost")["items"]
    assert [(i["name"], i["detail"]["since"]) for i in lost] == [("成员3", "2026-03-06T02:00:00.000000Z")]
    assert "contact_lost" not in alerts(5)

    # the card's attendance by D: day 9's orglife is not yet there on day 6 (searched past it)
    def last_orglife(member: int, n: int) -> str | None:
        card = county.get(f"/api/v1/members/{M[member]}", as_of=day(n))
        return card["activity"]["last_orglife_at"]  # type: ignore[no-any-return]

    assert last_orglife(1, 4) is None
    assert last_orglife(1, 6) == "2026-03-05T02:00:00.000000Z"
    assert last_orglife(1, 9) == "2026-03-09T02:00:00.000000Z"

    def received(**params: Any) -> int:
        return county.get("/api/v1/figures/funds", **params)["total"]["received_total"]  # type: ignore[no-any-return]

    assert [received(as_of=day(n)) for n in (2, 3, 7, 8)] == [0, 1_000, 1_000, 3_000]
    assert received(as_of=day(8), to=day(5)) == 1_000


def _today() -> str:
    return datetime.now(CHINA_STANDARD_TIME).date().isoformat()


def test_as_of_now_equals_live(county: County) -> None:
    now = datetime.now(UTC).isoformat()
    urls: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/roster", {}),
        ("/api/v1/roster", {"township": "t1"}),
        ("/api/v1/roster", {"village": "v2"}),
        ("/api/v1/roster", {"status": "out"}),
        ("/api/v1/roster/members", {}),
        ("/api/v1/roster/members", {"township": "t1", "limit": 2, "offset": 1}),
        ("/api/v1/alerts", {}),
        *((f"/api/v1/members/{M[i]}", {}) for i in range(1, 6)),
        *((f"/api/v1/members/{M[i]}/co-managers", {}) for i in range(1, 6)),
        *((f"/api/v1/orgs/{o}/co-managed", {}) for o in ("dongguan", "huadu", "changan", "v1", "v2")),
    ]
    for url, params in urls:
        live = county.get(url, **params)
        assert county.get(url, as_of=_today(), **params) == live, url
        at_now = county.get(url, as_of=now, **params)
        if url.endswith("alerts"):
            assert at_now.pop("as_of") != live.pop("as_of")
        assert at_now == live, url
    live_csv = county.client.get("/api/v1/roster/members.csv").text
    assert county.client.get("/api/v1/roster/members.csv", params={"as_of": now}).text == live_csv
    rows = list(csv.DictReader(io.StringIO(live_csv.lstrip("\ufeff"))))
    assert len(rows) == 5
    # known_at now (a replay of everything) and later (the live projections) give the live state too
    assert county.get("/api/v1/roster", known_at=now) == county.get("/api/v1/roster")
    assert county.get("/api/v1/roster", known_at="2100-01-01") == county.get("/api/v1/roster")


def test_full_replay_equals_live_digest(county: County) -> None:
    live = county.get("/api/v1/audit/digest")
    assert live["digest"] == county.get("/api/v1/digest")["digest"]
    with county.engine.connect() as conn:
        assert live["digest"] == digest(conn)
    full = county.get("/api/v1/audit/replay")
    assert full["digest"] == live["digest"]
    assert full["events"] == {"archived": 22, "replayed": 22}
    assert full["rows"] == live["rows"]
    # after the last arrival, what the county knew is everything
    assert county.get("/api/v1/audit/replay", known_at=end_of(11))["digest"] == live["digest"]
    early = county.get("/api/v1/audit/replay", known_at=end_of(9))
    early_events = {"archived": 20, "replayed": 20}  # huadu's two offline events arrived on day 10
    assert early["events"] == early_events and early["digest"] != live["digest"]
    assert early["roster"] == {"contact_lost": 1, "out": 4}
    # the CLI: the same digests; --into keeps the replay
    runner = CliRunner()
    result = runner.invoke(audit_cli, ["replay", "--db", county.url, "--json"])
    assert result.exit_code == 0, result.output
    assert f'"digest": "{live["digest"]}"' in result.output
    result = runner.invoke(audit_cli, ["digest", "--db", county.url])
    assert result.exit_code == 0 and live["digest"] in result.output
    into = f"sqlite:///{county.root / 'day9.db'}"
    result = runner.invoke(audit_cli, ["replay", "--db", county.url, "--known-at", end_of(9), "--into", into])
    assert result.exit_code == 0, result.output
    assert f"digest       {early['digest']}" in result.output and "replayed 20 of 20" in result.output
    kept = make_engine(into)
    with kept.connect() as conn:
        assert digest(conn) == early["digest"]
    kept.dispose()
    result = runner.invoke(audit_cli, ["replay", "--db", county.url, "--into", into])
    assert result.exit_code == 2 and "already holds an archive" in result.output


def test_as_of_digest_of_the_timeline_equals_a_replay_up_to_then(county: County) -> None:
    for n in (1, 3, 4, 5, 6, 11):
        live = county.get("/api/v1/audit/digest", as_of=day(n))
        replayed = county.get("/api/v1/audit/replay", as_of=day(n))
        assert replayed["as_of_digest"] == live["as_of_digest"], n
        assert replayed["roster"] == live["roster"]
    assert county.get("/api/v1/audit/digest", as_of=day(3))["roster"] == {"out": 5}
    # business time and arrival: on day 9 the county did not know of day 4's return
    assert county.get("/api/v1/audit/replay", as_of=day(4), known_at=end_of(9))["roster"] == {"out": 5}
    assert county.get("/api/v1/audit/replay", as_of=day(4), known_at=end_of(10))["roster"] == {
        "out": 4,
        "returned": 1,
    }
    result = CliRunner().invoke(audit_cli, ["replay", "--db", county.url, "--as-of", day(4)])
    live = county.get("/api/v1/audit/digest", as_of=day(4))
    assert result.exit_code == 0 and f"as-of digest {live['as_of_digest']}" in result.output


def test_known_at_counts_held_and_quarantined_envelopes_from_when_they_were_projected(
    county: County, tmp_path: Path
) -> None:
    """dongguan's seq 11 (m1 moved, day 10) reaches the county on day 11, after seq 12 (m1 lost
    contact, day 10) arrived on day 10 and was held behind the gap; and node hainan, not yet
    enrolled, sent m6's registration on day 7: quarantined until it is enrolled and retried (now)."""
    hainan = open_node(tmp_path / "more", "hainan")
    node = NodeService(county.root / "dongguan")
    try:
        moved, lost = record(
            node,
            [
                ev("member.moved", 10, "10:00", member_id=M[1], outstation="huadu", host_location="广东花都"),
                ev("member.contact_lost", 10, "11:00", member_id=M[1]),
            ],
        )
        registered = record(hainan, [registration(6, 7, "v3", "hainan")])
    finally:
        node.close()
        hainan.close()
    ing = county.ingestor
    assert ing.process([Incoming(lost, subject("dongguan"), arrival(10))]) == ["held"]
    assert ing.process([Incoming(registered[0], subject("hainan"), arrival(7))]) == ["quarantined"]
    assert ing.process([Incoming(moved, subject("dongguan"), arrival(11))]) == ["archived"]
    enrol_nodes(county.engine, hainan)
    assert ing.retry_quarantine() == (1, 0)

    def m1(known: int) -> tuple[str, str]:
        card = county.get(f"/api/v1/members/{M[1]}", known_at=end_of(known))
        return card["status"], card["outstation"]

    assert m1(10) == ("out", "dongguan")  # seq 12 was held: not projected on day 10
    assert m1(11) == ("contact_lost", "huadu")
    assert county.get("/api/v1/roster", known_at=end_of(11))["total"] == 5  # m6 was still quarantined
    assert county.get("/api/v1/roster")["total"] == 6


def test_figures_known_at_mean_what_the_projections_held_then_like_every_query(county: County) -> None:
    """dongguan's seq 11 (m1 moved, day 10) reaches the county on day 11; seq 12, a fund of
    4,000 fen (day 10), arrived on day 10 and was held behind the gap. Received by the end of day
    10, the fund was not projected then: figures known at day 10 leave it out, as the roster leaves
    out the move; by day 11 both count. (Filtering `received_at <= T` would count the fund on day 10.)"""
    node = NodeService(county.root / "dongguan")
    try:
        moved, fund = record(
            node,
            [
                ev("member.moved", 10, "10:00", member_id=M[1], outstation="huadu", host_location="广东花都"),
                ev("fund.received", 10, "11:00", org_id="dongguan", source="fiscal", amount_fen=4_000),
            ],
        )
    finally:
        node.close()
    assert county.ingestor.process([Incoming(fund, subject("dongguan"), arrival(10))]) == ["held"]
    assert county.ingestor.process([Incoming(moved, subject("dongguan"), arrival(11))]) == ["archived"]

    def known(n: int) -> tuple[int, str]:
        funds = county.get("/api/v1/figures/funds", known_at=end_of(n))
        m1 = county.get(f"/api/v1/members/{M[1]}", known_at=end_of(n))
        return funds["total"]["received_total"], m1["outstation"]

    assert known(9) == (3_000, "dongguan")
    assert known(10) == (3_000, "dongguan")  # the fund arrived on day 10, held behind seq 11
    assert known(11) == (7_000, "huadu")
    assert county.get("/api/v1/figures/funds")["total"]["received_total"] == 7_000
    funds = county.get("/api/v1/figures/funds", known_at=day(10), group_by="month")
    assert funds["filters"]["known_at"] == "2026-03-10T15:59:59.999999Z"  # a date: the end of that China day
    assert [(g["key"], g["received_total"]) for g in funds["groups"]] == [("2026-03", 3_000)]
    csv_text = county.client.get(
        "/api/v1/export/figures.csv", params={"figure": "funds", "known_at": end_of(10)}
    ).text
    header, total = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert dict(zip(header, total, strict=True))["经费收入合计（元）"] == "30.00"  # 3,000 fen


def test_scratch_databases_are_cached_per_time_and_removed_at_shutdown(county_engine: Engine) -> None:
    with CountyClient(create_app(county_engine, personal=TEST_KEYS)) as client:
        for known in ("2026-03-01", "2026-03-02", "2026-03-01T23:59:59.999999+08:00"):
            assert client.get("/api/v1/roster", params={"known_at": known}).status_code == 200
        cache = client.app.state.replays  # type: ignore[attr-defined]
        assert len(cache) == 2  # a date is the end of that China day
        dirs = [s.directory for s in cache._items.values()]
        assert all(d is not None and d.exists() for d in dirs)
    assert len(cache) == 0 and not any(d.exists() for d in dirs)


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/v1/roster", {"as_of": "2026-03-32"}, "as_of"),
        ("/api/v1/roster", {"as_of": "2026-03-05T10:00:00"}, "as_of"),
        ("/api/v1/roster/members", {"known_at": "yesterday"}, "known_at"),
        ("/api/v1/alerts", {"as_of": "2026-13-01"}, "as_of"),
        ("/api/v1/audit/replay", {"known_at": "2026-03-05T10:00"}, "known_at"),
        ("/api/v1/figures/funds", {"as_of": "2026-03-01", "from": "2026-03-05"}, "as_of"),
    ],
)
def test_bad_points_in_time_get_422_naming_the_parameter(
    county_engine: Engine, url: str, params: dict[str, str], field: str
) -> None:
    response = CountyClient(create_app(county_engine, personal=TEST_KEYS)).get(url, params=params)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["detail"]] == [field]
