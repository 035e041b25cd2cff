"""A small county for the dashboard's charts, units and codes: figures only in 2019-12 and 2020-03.

One township with one village branch and one outstation (`dongguan`, its own node); the county
office's node registers the tree and member 1 (at no outstation), dongguan registers members 1 to 3
(member 1 a second time: a `double_registration`); the office updates member 1's occupation
(`member.details_updated`). Dongguan holds
organisational life and training, places people in jobs, gives legal consultations and records a
returnee investment of 1,375,000 万元 (137.5 亿元) in December 2019 and March 2020; nothing in
between, and no funds at all (the funds charts have no data).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from services.county.ingest.processor import Ingestor
from shared.signing import Signer
from tests.browser.dashboard_county import ev, mid
from tests.county.helpers import deliver_keys, enrol_nodes, feed, open_node, record
from tests.samples import id_number

MONTHS = ("2019-12", "2020-03")
"""The months with figures; 2020-01 and 2020-02 have none."""
INVESTED_FEN = 1_375_000 * 10**4 * 100
"""1,375,000 万元 in fen: 137.5 亿元."""
DOUBLE = 1
"""The member registered by both nodes."""


def office_events() -> list[dict[str, Any]]:
    day = date(2019, 11, 1)
    out = [
        ev("org.registered", day, org_id="county", name="江县县委", kind="county_committee"),
        ev(
            "org.registered",
            day,
            org_id="t1",
            name="东乡镇党委",
            kind="township_committee",
            parent_id="county",
        ),
        ev(
            "org.registered", day, org_id="t1v1", name="东乡一村党支部", kind="village_branch", parent_id="t1"
        ),
        ev(
            "org.registered",
            day,
            org_id="dongguan",
            name="驻东莞服务站党支部",
            kind="outstation",
            parent_id="county",
            mode="service_station",
            host_location="广东东莞",
        ),
    ]
    out.append(registration(DOUBLE, date(2019, 11, 5), outstation=None))  # at none: its own to say
    out.append(ev("member.details_updated", date(2019, 12, 2), member_id=mid(DOUBLE), occupation="物流"))
    return out


def registration(i: int, day: date, outstation: str | None = "dongguan") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "member_id": mid(i),
        "personal": {"name": f"成员{i:04d}", "id_number": id_number(i)},
        "home_branch": "t1v1",
        "host_location": "广东东莞",
        "occupation": "皮具加工",
        "flowed_out_on": "2019-03-01",
    }
    if outstation:
        payload["outstation"] = outstation
    return ev("member.registered", day, **payload)


def dongguan_events() -> list[dict[str, Any]]:
    people = [mid(i) for i in (1, 2, 3)]
    out = [registration(i, date(2019, 11, 6)) for i in (1, 2, 3)]
    for month, day in ((12, date(2019, 12, 10)), (3, date(2020, 3, 10))):
        kind = {"org_id": "dongguan", "attendees": people}
        out.append(ev("orglife.held", day, kind="theme_day", topic="主题党日", **kind))
        out.append(ev("training.held", day, mode="cloud", title="党课", **kind))
        out.append(ev("jobs.placed", day, org_id="dongguan", people=10 + month))
        out.append(ev("legal.consulted", day, org_id="dongguan", people=20 + month))
        out.append(
            ev(
                "returnee.invested",
                day,
                org_id="dongguan",
                enterprise="返乡企业",
                industry="皮具",
                amount_fen=INVESTED_FEN // 2,
                jobs=5,
            )
        )
    return out


def build_charts_county(root: Path) -> Engine:
    """A new SQLite county under `root` with the history above, recorded at real nodes and
    ingested; the caller disposes of the engine."""
    return build_county(root, {"county": office_events(), "dongguan": dongguan_events()})


def build_county(root: Path, histories: dict[str, list[dict[str, Any]]]) -> Engine:
    """A new SQLite county under `root` from each node's `histories` (the county office's node
    `county` among them), recorded at real nodes and ingested; the caller disposes of the engine."""
    engine = make_engine(f"sqlite:///{root / 'county.db'}")
    migrate(engine)
    nodes = {node_id: open_node(root / "nodes", node_id) for node_id in histories}
    try:
        signed = {node_id: record(nodes[node_id], items) for node_id, items in histories.items()}
        deliver_keys(engine, *nodes.values())
        enrol_nodes(engine, *nodes.values(), office="county", orgs={"county": ["county", "t1", "t1v1"]})
    finally:
        for node in nodes.values():
            node.close()
    ingestor = Ingestor(engine, "jx", Signer.generate())
    for datas in signed.values():
        feed(ingestor, datas)
    return engine
