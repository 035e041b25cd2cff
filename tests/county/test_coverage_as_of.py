"""Education coverage and study accounts as of a business time D (SQLite and PostgreSQL).

A scripted timeline recorded at real branch nodes (county, dongguan, huadu) and ingested, each
event arriving at 12:00 China time on the day it happened. Events at 10:00 China time.

    county 江县县委 ─┬─ t1 东乡镇党委 ─┬─ v1: m1, m4
                    │                 └─ v2: m2
                    ├─ t2 西乡镇党委 ── v3: m3, m5
                    ├─ dongguan (outstation, service_station)
                    └─ t1 ── huadu (outstation, industry_chain)

    2025-12-01  dongguan registers m1 (v1), m2 (v2), m3 (v3); huadu registers m4 (v1)
    2025-12-10  training at dongguan: m1, m2                      (2025)
    2026-01-05  m1 opens a study account
    2026-02-10  training at huadu: m4
    2026-03-01  huadu registers m5 (v3)
    2026-03-10  training at dongguan: m1, m2, m5
    2026-04-01  m3 contact lost                                   (still on the roster)
    2026-04-15  m2 returned                                       (off the roster)
    2026-05-01  m3 (at dongguan) and m5 (at huadu) open study accounts
    2026-06-01  training at dongguan: m1, m3                      (m1's latest training)
    2026-07-01  m4 moved to dongguan

m1's latest training (06-01) is after the earlier dates: whether m1 was trained by then must come
from that year's training events up to D, not from the latest attendance the projection keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.api.app import create_app
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from shared import envelope
from tests.accounts import CountyClient
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import ORG_TREE, enrol_nodes, open_node, record, subject
from tests.ids import member_id
from tests.samples import id_number

M = {i: member_id(bytes.fromhex(COUNTY_SECRET), id_number(300 + i)) for i in range(1, 6)}
BRANCH = {1: "v1", 2: "v2", 3: "v3", 4: "v1", 5: "v3"}


def ev(type_: str, day: str, hm: str = "10:00", **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": f"{day}T{hm}:00+08:00", "payload": payload}


def registration(i: int, day: str, outstation: str) -> dict[str, Any]:
    payload = {
        "member_id": M[i],  # given, as nodes draw ids at random
        "personal": {"name": f"成员{i}", "id_number": id_number(300 + i)},
        "home_branch": BRANCH[i],
        "outstation": outstation,
        "host_location": "广东东莞" if outstation == "dongguan" else "广东花都",
        "flowed_out_on": "2019-03-01",
    }
    return ev("member.registered", day, "09:00", **payload)


def training(day: str, org: str, *members: int) -> dict[str, Any]:
    return ev(
        "training.held", day, org_id=org, mode="on_site", title="党课", attendees=[M[i] for i in members]
    )


def opened(day: str, i: int) -> dict[str, Any]:
    return ev("member.study_account_opened", day, member_id=M[i], account=f"acc{i}")


HISTORY: dict[str, list[dict[str, Any]]] = {
    "county": [
        ev("org.registered", "2025-11-30", org_id=o, name=n, kind=k, **({"parent_id": p} if p else {}), **x)
        for o, n, k, p, x in ORG_TREE
    ],
    "dongguan": [
        *(registration(i, "2025-12-01", "dongguan") for i in (1, 2, 3)),
        training("2025-12-10", "dongguan", 1, 2),
        opened("2026-01-05", 1),
        training("2026-03-10", "dongguan", 1, 2, 5),
        ev("member.contact_lost", "2026-04-01", member_id=M[3]),
        ev("member.returned", "2026-04-15", member_id=M[2]),
        opened("2026-05-01", 3),
        training("2026-06-01", "dongguan", 1, 3),
    ],
    "huadu": [
        registration(4, "2025-12-01", "huadu"),
        training("2026-02-10", "huadu", 4),
        registration(5, "2026-03-01", "huadu"),
        opened("2026-05-01", 5),
        ev("member.moved", "2026-07-01", member_id=M[4], outstation="dongguan", host_location="广东东莞"),
    ],
}


@dataclass
class County:
    client: TestClient

    def education(self, **params: Any) -> dict[str, Any]:
        response = self.client.get("/api/v1/figures/education", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def coverage(self, **params: Any) -> tuple[int, int, int, int]:
        """(year, roster, trained, study accounts opened) of the total."""
        total = self.education(**params)["total"]
        cov, study = total["coverage"], total["study_accounts"]
        assert cov["roster"] == study["roster"]
        return cov["year"], cov["roster"], cov["trained"], study["opened"]

    def groups(self, group_by: str, **params: Any) -> dict[Any, tuple[int, int, int]]:
        groups = self.education(group_by=group_by, **params)["groups"]
        return {
            g["key"]: (g["coverage"]["roster"], g["coverage"]["trained"], g["study_accounts"]["opened"])
            for g in groups
        }


def arrival(data: bytes) -> str:
    """12:00 China time on the day the event occurred (04:00 UTC, as the county stamps it)."""
    occurred = envelope.decode(data).occurred_at
    return occurred[:10] + "T04:00:00.000000Z"


@pytest.fixture
def county(county_engine: Engine, tmp_path: Path) -> Iterator[County]:
    nodes = {node_id: open_node(tmp_path, node_id) for node_id in HISTORY}
    try:
        signed = {node_id: record(nodes[node_id], items) for node_id, items in HISTORY.items()}
    finally:
        for node in nodes.values():
            node.close()
    enrol_nodes(county_engine, *nodes.values(), office="county")
    ingestor = Ingestor(county_engine, "jx")
    arriving = sorted(
        (arrival(data), node_id, seq, data)
        for node_id, datas in signed.items()
        for seq, data in enumerate(datas, 1)
    )
    for received, node_id, _, data in arriving:  # in order of arrival, each node's in seq order
        assert ingestor.process([Incoming(data, subject(node_id), received)]) == ["archived"]
    yield County(CountyClient(create_app(county_engine)))


def test_coverage_as_of_is_the_roster_and_training_as_they_stood_then(county: County) -> None:
    # live: on the roster m1, m3 (contact lost), m4, m5 — m2 returned; all four trained in 2026;
    # study accounts m1, m3, m5
    assert county.coverage(year=2026) == (2026, 4, 4, 3)
    # 2026-02-28: m1..m4; only m4 trained in 2026 by then (m1's 2026 trainings are later); m1's account
    assert county.coverage(as_of="2026-02-28") == (2026, 4, 1, 1)
    # 2026-03-31: m1..m5; m1, m2, m5 trained on 03-10, m4 on 02-10; still only m1's account
    assert county.coverage(as_of="2026-03-31") == (2026, 5, 4, 1)
    # a time on 03-10 before the 10:00 training: only m4
    assert county.coverage(as_of="2026-03-10T09:00:00+08:00") == (2026, 5, 1, 1)
    # after m2 returned, before m3's training and the accounts of m3 and m5
    assert county.coverage(as_of="2026-04-30") == (2026, 4, 3, 1)
    # and the rate: 4 of 5
    cov = county.education(as_of="2026-03-31")["total"]["coverage"]
    assert cov == {"year": 2026, "roster": 5, "trained": 4, "rate": 0.8}


def test_coverage_as_of_other_years(county: County) -> None:
    # D's year by default: 2025 before the training of 12-10, then m1 and m2
    assert county.coverage(as_of="2025-12-05") == (2025, 4, 0, 0)
    assert county.coverage(as_of="2025-12-31") == (2025, 4, 2, 0)
    # a year before D's is over by D; a later one has had no training by D
    assert county.coverage(as_of="2026-02-28", year=2025) == (2025, 4, 2, 1)
    assert county.coverage(as_of="2025-12-31", year=2026) == (2026, 4, 0, 0)
    # before anyone registered the roster is empty: no rate
    cov = county.education(as_of="2025-11-30")["total"]["coverage"]
    assert cov == {"year": 2025, "roster": 0, "trained": 0, "rate": None}


def test_coverage_groups_and_filters_use_the_placement_at_d(county: County) -> None:
    # 2026-03-31: m4 is still at huadu (industry chain); it moves to dongguan on 07-01
    assert county.groups("mode", as_of="2026-03-31") == {
        "service_station": (3, 2, 1),
        "industry_chain": (2, 2, 0),
    }
    assert county.groups("mode", year=2026) == {"service_station": (3, 3, 2), "industry_chain": (1, 1, 1)}
    assert county.groups("org", as_of="2026-03-31") == {"dongguan": (3, 2, 1), "huadu": (2, 2, 0)}
    # (dongguan's trainings are in no township: a group with sessions and no roster)
    by_township = {"t1": (3, 3, 1), "t2": (2, 1, 0), None: (0, 0, 0)}
    assert county.groups("township", as_of="2026-03-31") == by_township
    assert county.coverage(as_of="2026-03-31", mode="industry_chain") == (2026, 2, 2, 0)
    assert county.coverage(as_of="2026-03-31", township="t2") == (2026, 2, 1, 0)
    assert county.coverage(as_of="2026-03-31", org="huadu") == (2026, 2, 2, 0)
    assert county.coverage(org="huadu", year=2026) == (2026, 1, 1, 1)


def test_coverage_as_of_agrees_with_the_roster_and_alerts_as_of(county: County) -> None:
    """The same members and the same training by D as the roster and the alerts as of D say."""
    for d in ("2025-12-05", "2026-02-28", "2026-03-10T09:00:00+08:00", "2026-03-31", "2026-04-30"):
        _, roster, trained, _ = county.coverage(as_of=d)
        counts = county.client.get("/api/v1/roster", params={"as_of": d}).json()["by_status"]
        assert roster == counts["out"] + counts["contact_lost"], d
        alerts = county.client.get("/api/v1/alerts", params={"as_of": d}).json()["counts"]
        assert trained == roster - alerts["untrained_this_year"], d


def test_coverage_as_of_now_equals_live_and_known_at_still_limits_the_sessions(county: County) -> None:
    now = datetime.now(UTC).isoformat()
    for params in ({}, {"group_by": "mode"}, {"group_by": "township"}, {"township": "t1"}):
        live = county.education(year=2026, **params)
        at_now = county.education(year=2026, as_of=now, **params)
        assert (at_now["total"], at_now["groups"]) == (live["total"], live["groups"]), params
    assert county.education(as_of="2026-03-31")["filters"]["as_of"] == "2026-03-31"
    # known_at (arrival) limits the sessions as for every figure: on 03-05 the 03-10 training had
    # not arrived; it had by 03-31
    sessions = county.education(as_of="2026-03-31", known_at="2026-03-05T12:00:00+08:00")["total"]["training"]
    assert (sessions["sessions"], sessions["attendances"]) == (2, 3)
    sessions = county.education(as_of="2026-03-31", known_at="2026-03-31T12:00:00+08:00")["total"]["training"]
    assert (sessions["sessions"], sessions["attendances"]) == (3, 6)
