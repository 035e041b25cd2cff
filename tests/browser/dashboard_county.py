"""A county for the dashboard: a deterministic history recorded at real branch nodes, ingested.

Townships with village branches, four outstations (one per mode) and a township chamber;
`members` mobile members registered from January to March 2026, some of whom then move,
return, lose contact or transfer out; monthly organisational life, training, funds from the
five sources and pioneer work at each outstation node. Everything goes through `NodeService.record`
(the node's own validation, chaining and signature) and the county's `Ingestor`, as in production.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.county.db.engine import make_engine, migrate
from services.county.ingest.processor import Ingestor
from shared.signing import Signer
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import deliver_keys, enrol_nodes, feed, open_node, record
from tests.ids import member_id
from tests.samples import id_number

SECRET = bytes.fromhex(COUNTY_SECRET)
TOWNSHIP_NAMES = ("东乡", "西乡", "南乡", "北乡", "中和", "石桥", "安平", "青山")
VILLAGE_NAMES = ("一村", "二村", "三村", "四村")
OUTSTATIONS = {  # node/org id: name, mode, host location
    "dongguan": ("驻东莞服务站党支部", "service_station", "广东东莞"),
    "huadu": ("驻花都皮具产业链党支部", "industry_chain", "广东花都"),
    "zhuzhou": ("驻株洲建材党支部", "building_materials", "湖南株洲"),
    "hainan": ("驻海南荔枝党支部", "lychee", "海南海口"),
}
SOURCES = ("fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy")
REGISTERED_BY = date(2026, 3, 31)
"""Every member is registered by then; before it, the roster is smaller (for `as_of`)."""


def at(day: date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


def ev(type_: str, day: date, **payload: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": at(day), "payload": payload}


ERASED_MEMBER = 2
"""Member 2 is erased (`member.erased`, recorded by the county office's node)."""


def mid(i: int) -> str:
    return member_id(SECRET, id_number(i))


def org_tree(townships: int) -> list[dict[str, Any]]:
    day = date(2026, 1, 2)
    orgs = [ev("org.registered", day, org_id="county", name="江县县委", kind="county_committee")]
    for t in range(1, townships + 1):
        name = TOWNSHIP_NAMES[(t - 1) % len(TOWNSHIP_NAMES)]
        orgs.append(
            ev(
                "org.registered",
                day,
                org_id=f"t{t}",
                name=f"{name}镇党委",
                kind="township_committee",
                parent_id="county",
            )
        )
        for v in range(1, 4):
            orgs.append(
                ev(
                    "org.registered",
                    day,
                    org_id=f"t{t}v{v}",
                    name=f"{name}{VILLAGE_NAMES[v - 1]}党支部",
                    kind="village_branch",
                    parent_id=f"t{t}",
                )
            )
    for org_id, (name, mode, host) in OUTSTATIONS.items():
        orgs.append(
            ev(
                "org.registered",
                day,
                org_id=org_id,
                name=name,
                kind="outstation",
                parent_id="county",
                mode=mode,
                host_location=host,
            )
        )
    orgs.append(
        ev("org.registered", day, org_id="c1", name="东乡镇商会", kind="township_chamber", parent_id="t1")
    )
    return orgs


def villages(townships: int) -> list[str]:
    return [f"t{t}v{v}" for t in range(1, townships + 1) for v in range(1, 4)]


def member_events(
    members: int, townships: int, rng: random.Random
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Registrations and later status changes; and which members each outstation has."""
    homes = villages(townships)
    stations = [*OUTSTATIONS, None]
    regs, later = [], []
    per_station: dict[str, list[str]] = {o: [] for o in OUTSTATIONS}
    for i in range(1, members + 1):
        outstation = stations[i % len(stations)]
        host = OUTSTATIONS[outstation][2] if outstation else "浙江义乌"
        payload: dict[str, Any] = {
            "member_id": mid(i),  # given, as nodes draw ids at random
            "personal": {"name": f"成员{i:04d}", "id_number": id_number(i)},
            "home_branch": homes[(i * 7) % len(homes)],
            "host_location": host,
            "occupation": rng.choice(("皮具加工", "建材销售", "荔枝种植", "物流", "餐饮")),
            "flowed_out_on": "2019-03-01",
        }
        if outstation:
            payload["outstation"] = outstation
            per_station[outstation].append(mid(i))
        day = date(2026, 1, 5) + timedelta(days=(i * 85) // members)
        regs.append(ev("member.registered", day, **payload))
        roll, change = rng.random(), date(2026, 4, 1) + timedelta(days=rng.randrange(200))
        if roll < 0.10:
            to = rng.choice(list(OUTSTATIONS))
            later.append(
                ev("member.moved", change, member_id=mid(i), outstation=to, host_location=OUTSTATIONS[to][2])
            )
        elif roll < 0.18:
            later.append(ev("member.returned", change, member_id=mid(i)))
        elif roll < 0.23:
            later.append(ev("member.contact_lost", change, member_id=mid(i)))
        elif roll < 0.26:
            later.append(ev("member.transferred_out", change, member_id=mid(i), to_org="长沙市某党支部"))
        if roll > 0.7:
            later.append(
                ev("member.study_account_opened", date(2026, 4, 1), member_id=mid(i), account=f"acc{i}")
            )
    if members >= 3:
        later.append(
            ev("post.cross_assigned", date(2026, 4, 2), member_id=mid(1), org_id="dongguan", post="支部委员")
        )
        erased = {"decided_by": "县委组织部", "legal_basis": "《个人信息保护法》第四十七条；本人申请"}
        later.append(
            ev("member.erased", date(2026, 5, 1), member_id=mid(2), decided_on="2026-05-01", **erased)
        )
    review = "recruitment.reviewed"
    later.append(
        ev(
            review,
            date(2026, 6, 1),
            candidate_id=mid(members + 1),
            org_id="dongguan",
            side="outstation",
            decision="approved",
        )
    )
    return regs + later, per_station


def outstation_events(org_id: str, people: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """A year of one outstation's work, month by month (January to November 2026)."""
    out: list[dict[str, Any]] = []
    for month in range(1, 12):
        day = date(2026, month, 10)
        if people:
            attending = rng.sample(people, min(len(people), 12))
            out.append(
                ev(
                    "orglife.held",
                    day,
                    org_id=org_id,
                    kind="theme_day",
                    topic="主题党日",
                    attendees=attending,
                )
            )
            mode = ("on_site", "cloud", "special")[month % 3]
            trained = rng.sample(people, min(len(people), 20))
            out.append(
                ev(
                    "training.held",
                    day + timedelta(days=5),
                    org_id=org_id,
                    mode=mode,
                    title="党课",
                    attendees=trained,
                )
            )
        source = SOURCES[month % len(SOURCES)]
        out.append(
            ev("fund.received", day, org_id=org_id, source=source, amount_fen=rng.randrange(50_000, 500_000))
        )
        if month % 3 == 0:
            out.append(
                ev(
                    "fund.spent",
                    day,
                    org_id=org_id,
                    amount_fen=rng.randrange(10_000, 40_000),
                    purpose="活动阵地租金",
                )
            )
        out.append(ev("jobs.placed", day, org_id=org_id, people=rng.randrange(5, 60)))
        out.append(ev("legal.consulted", day, org_id=org_id, people=rng.randrange(10, 90)))
        out.append(
            ev(
                "dispute.mediated",
                day,
                org_id=org_id,
                category="wages",
                outcome="resolved",
                recovered_fen=rng.randrange(100_000, 900_000),
            )
        )
        if month % 2 == 0:
            out.append(
                ev(
                    "returnee.invested",
                    day,
                    org_id=org_id,
                    enterprise="返乡企业",
                    industry="皮具",
                    amount_fen=rng.randrange(10**7, 10**8),
                    jobs=rng.randrange(10, 80),
                )
            )
            out.append(
                ev(
                    "donation.made",
                    day,
                    org_id=org_id,
                    cause="rural_revitalisation",
                    cash_fen=rng.randrange(10_000, 100_000),
                )
            )
        if org_id == "dongguan":
            out.append(
                ev("service.provided", day, org_id=org_id, line="labour", people=rng.randrange(20, 100))
            )
        if org_id == "huadu":
            out.append(
                ev(
                    "enterprise.founded",
                    day,
                    org_id=org_id,
                    enterprise="皮具作坊",
                    industry="皮具",
                    households_enriched=rng.randrange(5, 40),
                )
            )
    return out


def chamber_events() -> list[dict[str, Any]]:
    return [
        ev(
            "chamber.member_joined", date(2026, 5, 1), org_id="c1", member_kind="company", name="东乡建材公司"
        ),
        ev("chamber.funds_raised", date(2026, 5, 2), org_id="c1", amount_fen=5_000_000),
        ev(
            "chamber.project_launched",
            date(2026, 6, 3),
            org_id="c1",
            project="冷链仓库",
            industry="农产品",
            amount_fen=8_000_000,
        ),
    ]


def fill_county(engine: Engine, root: Path, members: int = 60, townships: int = 3, seed: int = 7) -> None:
    """Record the history at real nodes (data dirs under `root`) and ingest it into `engine`'s
    (migrated) database. The county signs receipts, so node health shows the last one."""
    rng = random.Random(seed)
    people, per_station = member_events(members, townships, rng)
    histories = {"county": org_tree(townships) + people + chamber_events()}
    for org_id in OUTSTATIONS:
        histories[org_id] = outstation_events(org_id, per_station[org_id], rng)
    nodes = {node_id: open_node(root / "nodes", node_id) for node_id in histories}
    try:
        signed = {node_id: record(nodes[node_id], items) for node_id, items in histories.items()}
        deliver_keys(engine, *nodes.values())
        # the node "county" records the tree, the members and the chamber: the county office,
        # enrolled for the outstations and the chamber too (docs/authority.md)
        orgs = {"county": ["county", *OUTSTATIONS, "c1"]}
        enrol_nodes(engine, *nodes.values(), office="county", orgs=orgs)
    finally:
        for node in nodes.values():
            node.close()
    ingestor = Ingestor(engine, "jx", Signer.generate())
    for datas in signed.values():
        feed(ingestor, datas)


def build_county(root: Path, members: int = 60, townships: int = 3, seed: int = 7) -> Engine:
    """A new SQLite county database under `root` holding the whole history (`fill_county`); the
    caller disposes of the engine."""
    engine = make_engine(f"sqlite:///{root / 'county.db'}")
    migrate(engine)
    fill_county(engine, root, members, townships, seed)
    return engine
