"""Simulated mobile members: who flows out where, moves, returns, loses and regains contact.

A member's events are recorded by the node that registered them (a node refuses events about
members it has not registered), also after a move to another outstation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tongxin.demo import people
from tongxin.demo.county import OUTSTATIONS, Outstation, villages
from tongxin.demo.timeline import Timeline

BY_ID = {o.org_id: o for o in OUTSTATIONS}
OCCUPATIONS = ["皮具加工", "箱包制作", "建材销售", "电子装配", "荔枝种植", "物流运输", "餐饮服务", "个体经营"]


@dataclass
class Stay:
    outstation: str
    since: datetime
    until: datetime | None = None


@dataclass
class Member:
    member_id: str
    name: str
    home_branch: str
    node: str
    """The node that registered the member and records their events."""
    registration: dict[str, object] = field(default_factory=dict, repr=False)
    stays: list[Stay] = field(default_factory=list)

    def at(self, day: date) -> str | None:
        """The outstation the member is out at on `day` (None when not out there)."""
        for stay in self.stays:
            if stay.since.date() <= day and (stay.until is None or day < stay.until.date()):
                return stay.outstation
        return None


def _weighted(tl: Timeline) -> Outstation:
    return tl.rng.choices(OUTSTATIONS, weights=[o.weight for o in OUTSTATIONS])[0]


def simulate(tl: Timeline, count: int, first_index: int = 0) -> list[Member]:
    """Register `count` members (ID numbers from `first_index`) and live out their history."""
    homes = [v[0] for v in villages()]
    members = [_life(tl, i, tl.rng.choice(homes)) for i in range(first_index, first_index + count)]
    for member in members[:: max(count // 2, 1)][:2]:
        _registered_twice(tl, member)
    return members


def _registered_twice(tl: Timeline, member: Member) -> None:
    """The same person registered again by another outstation (a conflict the county must show,
    counting the person once)."""
    other = next(o for o in OUTSTATIONS if o.org_id != member.node)
    payload = {
        **member.registration,
        "outstation": other.org_id,
        "host_location": other.host_location,
        "host_org": other.host_org,
    }
    tl.add(other.org_id, "member.registered", member.stays[0].since + timedelta(days=3), payload)


def register(tl: Timeline, index: int, home: str, out: Outstation, when: datetime) -> Member:
    rng = tl.rng
    number = people.id_number(index, rng)
    member = Member(f"{rng.getrandbits(128):032x}", people.name(rng), home, out.org_id)
    flowed_out = when.date() - timedelta(days=rng.randint(30, 3000))
    member.registration = {
        "member_id": member.member_id,
        "personal": {"name": member.name, "id_number": number, "phone": people.phone(rng)},
        "home_branch": home,
        "outstation": out.org_id,
        "host_location": out.host_location,
        "host_org": out.host_org,
        "occupation": rng.choice(OCCUPATIONS),
        "flowed_out_on": flowed_out.isoformat(),
    }
    tl.add(out.org_id, "member.registered", when, member.registration)
    member.stays.append(Stay(out.org_id, when))
    return member


def _life(tl: Timeline, index: int, home: str) -> Member:
    rng = tl.rng
    out = _weighted(tl)
    registered = tl.moment(last=tl.end - timedelta(days=20))
    member = register(tl, index, home, out, registered)
    mid = member.member_id
    here = out.org_id
    if rng.random() < 0.7:
        tl.add(
            here,
            "member.study_account_opened",
            registered + timedelta(days=rng.randint(1, 6)),  # before any later change
            {"member_id": mid, "account": f"xy{index:06d}"},
        )
    when = registered
    if rng.random() < 0.08:  # moves to another outstation
        when = _later(tl, when)
        dest = rng.choice([o for o in OUTSTATIONS if o.org_id != here])
        tl.add(
            here,
            "member.moved",
            when,
            {
                "member_id": mid,
                "outstation": dest.org_id,
                "host_location": dest.host_location,
                "host_org": dest.host_org,
            },
        )
        member.stays[-1].until = when
        member.stays.append(Stay(dest.org_id, when))
    roll = rng.random()
    if roll < 0.06:  # loses contact; a third are found again
        when = _later(tl, when)
        tl.add(
            here,
            "member.contact_lost",
            when,
            {"member_id": mid, "last_contact_on": (when.date() - timedelta(days=40)).isoformat()},
        )
        member.stays[-1].until = when
        if rng.random() < 0.34:
            when = _later(tl, when)
            tl.add(here, "member.contact_restored", when, {"member_id": mid, "note": "经老乡联系恢复"})
            member.stays.append(Stay(here, when))
    elif roll < 0.18:
        when = _later(tl, when)
        tl.add(here, "member.returned", when, {"member_id": mid, "note": "返乡创业"})
        member.stays[-1].until = when
    elif roll < 0.20:
        when = _later(tl, when)
        tl.add(
            here,
            "member.transferred_out",
            when,
            {"member_id": mid, "to_org": f"{BY_ID[here].host_location}某企业党支部"},
        )
        member.stays[-1].until = when
    return member


def _later(tl: Timeline, after: datetime) -> datetime:
    """A moment after `after` (a week to a year later), never after the end of the history."""
    last = min(after.date() + timedelta(days=365), tl.end)
    first = min(after.date() + timedelta(days=7), last)
    moment = tl.moment(first, last)
    return max(moment, after + timedelta(hours=1))
