"""The whole path as processes: nodes forward over NATS, `tongxin county serve` ingests and answers.

Hand-checked scenario: a member moves from one outstation to another, another returns,
another loses contact, a recruitment gets only one review.

    county ─┬─ t1 ─┬─ v1: m1 (moved dongguan → huadu), m4 (dongguan)
            │      └─ v2: m2 (returned)
            └─ t2 ─── v3: m3 (contact lost), m5 (huadu)
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from services.branch_node.forwarder import Forwarder
from services.branch_node.service import NodeService
from services.county.accounts.roles import Role
from services.county.db.engine import make_engine, migrate
from tests.accounts import bearer
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import enrol_nodes, open_node, record
from tests.e2e.conftest import TONGXIN
from tests.ids import member_id
from tests.samples import id_number
from tongxin.natsd import EmbeddedNats, free_port

M = {i: member_id(bytes.fromhex(COUNTY_SECRET), id_number(i)) for i in range(1, 7)}


def org(org_id: str, kind: str, parent: str | None, **extra: str) -> dict[str, Any]:
    payload = {"org_id": org_id, "name": f"{org_id}党组织", "kind": kind, "parent_id": parent, **extra}
    return {"type": "org.registered", "occurred_at": "2026-01-01T09:00:00+08:00", "payload": payload}


def member(i: int, branch: str, outstation: str) -> dict[str, Any]:
    return {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "member_id": M[i],  # given, as nodes draw ids at random
            "personal": {"name": f"成员{i}", "id_number": id_number(i)},
            "home_branch": branch,
            "outstation": outstation,
            "host_location": "广东",
            "flowed_out_on": "2019-03-01",
        },
    }


def event(type_: str, day: str, **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": f"2026-{day}T10:00:00+08:00", "payload": payload}


def scenario(root: Path) -> list[NodeService]:
    county, dongguan, huadu = (open_node(root, n) for n in ("county", "dongguan", "huadu"))
    record(
        county,
        [
            org("county", "county_committee", None),
            org("t1", "township_committee", "county"),
            org("t2", "township_committee", "county"),
            org("v1", "village_branch", "t1"),
            org("v2", "village_branch", "t1"),
            org("v3", "village_branch", "t2"),
            org("dongguan", "outstation", "county", host_location="广东东莞", mode="service_station"),
            org("huadu", "outstation", "county", host_location="广州花都", mode="industry_chain"),
        ],
    )
    record(
        dongguan,
        [
            member(1, "v1", "dongguan"),
            member(2, "v2", "dongguan"),
            member(3, "v3", "dongguan"),
            member(4, "v1", "dongguan"),
            event("member.moved", "03-01", member_id=M[1], outstation="huadu", host_location="广州花都"),
            event("member.returned", "03-02", member_id=M[2]),
            event("member.contact_lost", "03-03", member_id=M[3]),
            event(
                "recruitment.reviewed",
                "03-04",
                candidate_id=M[6],
                org_id="dongguan",
                side="outstation",
                decision="approved",
            ),
        ],
    )
    record(huadu, [member(5, "v3", "huadu")])
    return [county, dongguan, huadu]


HEADERS: dict[str, str] = {}
"""An analyst's bearer token, made in the test's database before the county starts."""


def get(port: int, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}{query}", headers=HEADERS)
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.loads(r.read())


def test_nodes_forward_and_the_county_api_shows_the_roster_and_dual_management(
    nats_server: EmbeddedNats, county_db_url: str, tmp_path: Path
) -> None:
    nodes = scenario(tmp_path)
    engine = make_engine(county_db_url)
    migrate(engine)
    enrol_nodes(engine, *nodes, office="county")
    HEADERS.update(bearer(engine, Role.ANALYST))
    engine.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [
            TONGXIN,
            "county",
            "serve",
            "--county-id",
            "jx",
            "--db",
            county_db_url,
            "--nats",
            nats_server.url,
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for node in nodes:
            asyncio.run(Forwarder(node, nats_server.url).run(asyncio.Event(), once=True))
        deadline = time.monotonic() + 60
        while True:
            try:
                if (
                    get(port, "/api/v1/roster")["total"] == 5
                    and len(get(port, "/api/v1/nodes")["items"]) == 3
                ):
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "county serve did not show the roster"
            time.sleep(0.1)
        time.sleep(0.5)  # let the last batch settle: everything recorded is forwarded already

        county = get(port, "/api/v1/roster")
        assert county["by_status"] == {"out": 3, "returned": 1, "contact_lost": 1, "transferred_out": 0}
        assert {c["id"]: c["total"] for c in county["children"]} == {"t1": 3, "t2": 2}
        t1 = get(port, "/api/v1/roster", township="t1")
        assert {c["id"]: (c["total"], c["by_status"]["returned"]) for c in t1["children"]} == {
            "v1": (2, 0),
            "v2": (1, 1),
        }
        v3 = get(port, "/api/v1/roster", village="v3")
        assert (v3["total"], v3["by_status"]["contact_lost"], v3["by_status"]["out"]) == (2, 1, 1)

        moved = get(port, f"/api/v1/members/{M[1]}/co-managers")
        assert [(c["org_id"], c["role"]) for c in moved["co_managers"]] == [("huadu", "outstation")]
        assert get(port, f"/api/v1/members/{M[2]}/co-managers")["co_managers"] == []
        dongguan = get(port, "/api/v1/orgs/dongguan/co-managed")["co_managed"]["outstation"]
        assert sorted(m["member_id"] for m in dongguan) == sorted([M[3], M[4]])
        alerts = get(port, "/api/v1/alerts", kind="recruitment_awaiting_second_review")
        assert [i["member_id"] for i in alerts["items"]] == [M[6]]
        assert get(port, "/api/v1/alerts", kind="contact_lost")["items"][0]["member_id"] == M[3]
        assert get(port, "/health")["nats_connected"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for node in nodes:
            node.close()
