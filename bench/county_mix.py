"""Event mixes and node recording for bench.county: realistic items, parsed as the API parses them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from bench.node import id_number, member_of, new_node
from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService

COUNTY = "jx"
HOST = "广东东莞"
Item = dict[str, Any]
Progress = Callable[[str], None]


def node_ids(n: int) -> list[str]:
    """The nodes are outstations: node id = the outstation's org id."""
    return [f"os-{k:02d}" for k in range(1, n + 1)]


def village(v: int, villages: int) -> str:
    return f"vil-{v % villages + 1:03d}"


def town(t: int) -> str:
    return f"town-{t + 1:02d}"


def at(i: int) -> str:
    return f"2026-03-{1 + i % 28:02d}T{8 + i % 10:02d}:00:00+08:00"


def preamble(villages: int, nodes: int) -> list[Item]:
    """The organisation tree, recorded first by the first node: county, 10 villages per township,
    the villages, and every outstation."""

    def org(org_id: str, name: str, kind: str, parent: str | None = None, **more: Any) -> Item:
        payload = {"org_id": org_id, "name": name, "kind": kind, "parent_id": parent, **more}
        return {"type": "org.registered", "occurred_at": "2026-01-02T09:00:00+08:00", "payload": payload}

    towns = max(1, villages // 10)
    out = [org(COUNTY, "县委", "county_committee")]
    out += [org(town(t), f"第{t + 1}乡镇党委", "township_committee", COUNTY) for t in range(towns)]
    out += [
        org(village(v, villages), f"第{v + 1}村党支部", "village_branch", town(v * towns // villages))
        for v in range(villages)
    ]
    os_kw = {"mode": "service_station", "host_location": HOST}
    out += [org(o, f"驻{o}流动党员服务站", "outstation", COUNTY, **os_kw) for o in node_ids(nodes)]
    return out


def registration(g: int, org: str, villages: int) -> Item:
    person = {"name": f"成员{g}", "id_number": id_number(g), "phone": f"138{g % 10**8:08d}"}
    p = {
        "member_id": member_of(g),
        "personal": person,
        "home_branch": village(g, villages),
        "outstation": org,
    }
    p |= {"host_location": HOST, "flowed_out_on": "2019-03-01", "occupation": "皮具加工"}
    return {"type": "member.registered", "occurred_at": at(g), "payload": p}


def business(c: int, i: int, org: str, attendees: Callable[[int], list[str]]) -> Item:
    """The non-member events of a cycle position c (0–19); attendees(n) names n registered members."""
    p: Item
    if c < 4:
        t, p = "fund.received", {"org_id": org, "source": "host_subsidy", "amount_fen": 10_000 + i}
    elif c < 7:
        t, p = "orglife.held", {"org_id": org, "kind": "theme_day", "topic": "主题党日"}
        p["attendees"] = attendees(6)
    elif c < 9:
        t, p = "training.held", {"org_id": org, "mode": "cloud", "title": "云党课", "hours": 2}
        p["attendees"] = attendees(3)
    elif c < 13:
        t, p = "dispute.mediated", {"org_id": org, "category": "wages", "outcome": "resolved"}
    elif c < 17:
        t, p = "service.provided", {"org_id": org, "line": "labour", "people": 1 + i % 9}
    else:
        t, p = "jobs.placed", {"org_id": org, "people": 1 + i % 4}
    return {"type": t, "occurred_at": at(i), "payload": p}


def e2e_item(i: int, g0: int, org: str, villages: int) -> Item:
    """Item i of a node whose members are g0 + i, in cycles of 20 (as bench.node): 6 registrations,
    1 move of a member registered 1,000 events earlier at this node, 13 other events (funds,
    meetings and trainings with this cycle's registrants attending, mediations, services, jobs)."""
    k, base = i % 20, i - i % 20
    if k < 6:
        return registration(g0 + i, org, villages)
    if k == 6:
        moved = member_of(g0 + (base - 1000 if base >= 1000 else base))
        p = {"member_id": moved, "host_location": "广东深圳", "outstation": org}
        return {"type": "member.moved", "occurred_at": at(i), "payload": p}
    c = (0, 1, 2, 4, 5, 7, 8, 9, 10, 11, 13, 14, 17)[k - 7]  # 3 funds, 2 + 2 meetings, 3, 2, 1
    return business(c, i, org, lambda n: [member_of(g0 + base + j) for j in range(n)])


def e2e_items(k: int, events: int, nodes: int, villages: int) -> list[Item]:
    """Node k's items: the org tree first at node 0, then the cycle mix up to `events`."""
    head = preamble(villages, nodes) if k == 0 else []
    org = node_ids(nodes)[k]
    return head + [e2e_item(i, k * events, org, villages) for i in range(events - len(head))]


class QueryMix:
    """The query archive: `events` over `nodes`, exactly `members` registrations spread evenly;
    between them, in cycles of 20: 1 move, 1 contact lost/restored, 4 funds, 3 meetings, 2
    trainings (attendees registered at the node), 4 mediations, 4 services, 1 job placement."""

    def __init__(self, events: int, members: int, nodes: int, villages: int) -> None:
        self.events, self.members, self.nodes = events, members, nodes
        self.villages, self.head = villages, preamble(villages, nodes)
        self.step = max(1, (events - len(self.head)) // max(1, members))

    def items(self, k: int) -> Iterator[Item]:
        lo, hi = k * self.events // self.nodes, (k + 1) * self.events // self.nodes
        org, mine, lost = node_ids(self.nodes)[k], list[str](), set[str]()
        if k == 0:
            yield from self.head
            lo += len(self.head)
        for g in range(lo, hi):
            r = g - len(self.head)
            if r % self.step == 0 and r // self.step < self.members:
                mine.append(member_of(r // self.step))
                yield registration(r // self.step, org, self.villages)
            elif not mine:
                yield business(0, g, org, lambda n: [])
            elif g % 20 < 2:
                yield self._member_event(g, mine, lost, org)
            else:
                yield business(g % 20 - 2, g, org, partial(_pick, mine, g))

    @staticmethod
    def _member_event(g: int, mine: list[str], lost: set[str], org: str) -> Item:
        m = mine[(g * 7919) % len(mine)]
        if g % 20 == 0:
            lost.discard(m)
            t, p = "member.moved", {"member_id": m, "host_location": "广东深圳", "outstation": org}
        elif m in lost:
            lost.discard(m)
            t, p = "member.contact_restored", {"member_id": m}
        else:
            lost.add(m)
            t, p = "member.contact_lost", {"member_id": m, "last_contact_on": "2026-01-01"}
        return {"type": t, "occurred_at": at(g), "payload": p}


def _pick(mine: list[str], g: int, n: int) -> list[str]:
    return [mine[(g * 31 + j) % len(mine)] for j in range(n)]


def record_items(node: NodeService, items: Iterator[Item] | list[Item], batch: int = 1000) -> int:
    """Parse (as the API does) and NodeService.record in batches; returns the node's last seq."""
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == batch:
            node.record([parse_item(x, node.keys) for x in chunk])
            chunk = []
    if chunk:
        node.record([parse_item(x, node.keys) for x in chunk])
    return node.log.last_seq()


def make_nodes(
    root: Path,
    nodes: int,
    items: Callable[[int], Iterator[Item] | list[Item]],
    say: Progress,
) -> list[Path]:
    """Record each node's items into a fresh node dir under root (closed afterwards)."""
    paths = []
    for k, node_id in enumerate(node_ids(nodes)):
        node = new_node(root / node_id, node_id)
        try:
            n = record_items(node, items(k))
        finally:
            node.close()
        paths.append(root / node_id)
        if k % 5 == 4 or k == nodes - 1:
            say(f"    recorded {k + 1}/{nodes} nodes (last: {n:,} events)")
    return paths
