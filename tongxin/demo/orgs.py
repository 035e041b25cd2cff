"""The organisation tree, liaisons, venues, and the four mechanisms (四制) with education."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, timedelta

from tongxin.demo import people
from tongxin.demo.county import (
    COUNTY_NAME,
    COUNTY_ORG,
    OFFICE_NODE,
    OUTSTATIONS,
    TOWNSHIPS,
    villages,
)
from tongxin.demo.members import Member
from tongxin.demo.timeline import Timeline, at, months

LEADERS = ["周部长", "李副部长", "陈副部长", "王常务副部长", "刘副部长", "赵副部长", "孙副部长"]
OFFICES = ["组织一科", "组织二科", "基层党建办", "干部教育科", "党员教育中心", "人才工作科", "电教中心"]
TEACHING_SITES = ["dongguan", "huadu", "zhuzhou", "pingle", "hainan", "chambers", "shenzhen"]
VENUE_SOURCES = ["enterprise_hosted", "factory_space", "rented", "local_support"]


def org_tree(tl: Timeline) -> None:
    """The county office registers the tree and assigns a liaison to every outstation."""
    day = tl.start
    reg = at(day, 9 * 60)

    def org(org_id: str, name: str, kind: str, parent: str | None, **extra: str) -> None:
        payload = {"org_id": org_id, "name": name, "kind": kind, "parent_id": parent, **extra}
        tl.add(OFFICE_NODE, "org.registered", reg, {k: v for k, v in payload.items() if v is not None})

    org(COUNTY_ORG, f"中共{COUNTY_NAME}委员会", "county_committee", None)
    for tw, name in TOWNSHIPS:
        org(tw, f"{name}党委", "township_committee", COUNTY_ORG)
        org(f"{tw}-chamber", f"{name}商会", "township_chamber", tw)
    for v, name, tw in villages():
        org(v, f"{name}党支部", "village_branch", tw)
    for i, o in enumerate(OUTSTATIONS):
        opened = at(day + timedelta(days=30 + 20 * i), 10 * 60)
        tl.add(
            OFFICE_NODE,
            "org.registered",
            opened,
            {
                "org_id": o.org_id,
                "name": o.name,
                "kind": "outstation",
                "parent_id": COUNTY_ORG,
                "host_location": o.host_location,
                "mode": o.mode,
            },
        )
        tl.add(
            OFFICE_NODE,
            "org.liaison_assigned",
            opened + timedelta(hours=1),
            {"org_id": o.org_id, "leader": LEADERS[i % len(LEADERS)], "office": OFFICES[i % len(OFFICES)]},
        )
        here = opened + timedelta(days=3)
        tl.add(
            o.org_id,
            "org.registered",
            here,
            {
                "org_id": o.host_org,
                "name": o.host_org_name,
                "kind": "host_org",
                "parent_id": o.org_id,
                "host_location": o.host_location,
            },
        )
        tl.add(
            o.org_id,
            "org.secretary_appointed",
            here + timedelta(hours=1),
            {"org_id": o.org_id, "name": people.name(tl.rng)},
        )
        tl.add(
            o.org_id,
            "org.venue_opened",
            here + timedelta(days=20),
            {
                "org_id": o.org_id,
                "venue_id": f"{o.org_id}-venue",
                "name": f"{o.host_location}流动党员活动阵地",
                "kind": "activity_venue",
                "obtained": VENUE_SOURCES[i % len(VENUE_SOURCES)],
            },
        )
        if o.org_id in TEACHING_SITES:
            tl.add(
                o.org_id,
                "org.venue_opened",
                here + timedelta(days=200),
                {
                    "org_id": o.org_id,
                    "venue_id": f"{o.org_id}-teaching",
                    "name": f"{o.host_location}现场教学示范点",
                    "kind": "teaching_site",
                    "obtained": "local_support",
                },
            )


def mechanisms(tl: Timeline, members: list[Member], since: date) -> None:
    """Org life monthly, lessons quarterly, special training every July, briefings, cross posts,
    and dual reviews of recruits (some still waiting for the home side)."""
    rng = tl.rng
    present_at: dict[tuple[date, str], list[str]] = defaultdict(list)
    for month in months(since, tl.end):
        for m in members:
            if (here := m.at(month)) is not None:
                present_at[month, here].append(m.member_id)
    for o in OUTSTATIONS:
        for month in months(since, tl.end):
            present = present_at[month, o.org_id]
            if not present:
                continue
            day = at(month, 19 * 60)
            share = rng.uniform(0.55, 0.9)
            tl.add(
                o.org_id,
                "orglife.held",
                day,
                {
                    "org_id": o.org_id,
                    "kind": rng.choice(["branch_meeting", "theme_day", "group_meeting", "party_lesson"]),
                    "topic": "学习贯彻党的创新理论",
                    "attendees": rng.sample(present, max(1, int(len(present) * share))),
                },
            )
            if month.month in (3, 6, 9, 12):
                tl.add(
                    o.org_id,
                    "training.held",
                    day + timedelta(days=3),
                    {
                        "org_id": o.org_id,
                        "mode": "on_site",
                        "title": "送学上党课",
                        "attendees": rng.sample(present, max(1, int(len(present) * 0.6))),
                        "hours": 3,
                    },
                )
                tl.add(
                    o.org_id,
                    "liaison.briefing",
                    day + timedelta(days=5),
                    {"org_id": o.org_id, "host_org": o.host_org, "topic": "流动党员情况通报"},
                )
            if month.month == 7:
                tl.add(
                    o.org_id,
                    "training.held",
                    day - timedelta(days=13),
                    {
                        "org_id": o.org_id,
                        "mode": "special",
                        "title": "七一专题教育培训",
                        "attendees": rng.sample(present, max(1, len(present) // 2)),
                        "hours": 6,
                    },
                )
            if month.month in (1, 5, 10):
                tl.add(
                    o.org_id,
                    "training.held",
                    day + timedelta(days=1),
                    {
                        "org_id": o.org_id,
                        "mode": "cloud",
                        "title": "云党课",
                        "attendees": rng.sample(present, max(1, len(present) // 3)),
                    },
                )
        _cross_posts_and_recruits(tl, members, o.org_id, o.host_org)


def _cross_posts_and_recruits(tl: Timeline, members: list[Member], org_id: str, host_org: str) -> None:
    rng = tl.rng
    mine = [m for m in members if m.stays and m.stays[0].outstation == org_id]
    for m in rng.sample(mine, min(2, len(mine))):
        tl.add(
            org_id,
            "post.cross_assigned",
            m.stays[0].since + timedelta(days=30),
            {"member_id": m.member_id, "org_id": host_org, "post": "兼职委员"},
        )
    for i in range(2):
        candidate = hashlib.md5(f"{org_id}-candidate-{i}".encode()).hexdigest()
        day = tl.moment(tl.end - timedelta(days=400), tl.end - timedelta(days=10))
        tl.add(
            org_id,
            "recruitment.reviewed",
            day,
            {"candidate_id": candidate, "org_id": org_id, "side": "outstation", "decision": "approved"},
        )
        if rng.random() < 0.7:
            tl.add(
                OFFICE_NODE,
                "recruitment.reviewed",
                day + timedelta(days=7),
                {"candidate_id": candidate, "org_id": org_id, "side": "home", "decision": "approved"},
            )
