"""The county kept alive: everyday events at the outstations, none that changes a headline
figure of the report (those are history)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tongxin.demo.county import OUTSTATIONS
from tongxin.demo.members import BY_ID, Member, Stay, register
from tongxin.demo.pioneer import LINES
from tongxin.demo.timeline import Item, Timeline


class Live:
    """Draws the next everyday event; `index` numbers the ID numbers of new registrations."""

    def __init__(self, rng: random.Random, members: list[Member], index: int) -> None:
        self.rng = rng
        self.members = members
        self.index = index

    def present(self, org_id: str) -> list[Member]:
        return [
            m
            for m in self.members
            if m.stays and m.stays[-1].until is None and m.stays[-1].outstation == org_id
        ]

    def next(self, now: datetime) -> tuple[str, Item]:
        """(node, event) for something that happens `now` at a random outstation."""
        rng = self.rng
        out = rng.choice(OUTSTATIONS)
        org = out.org_id
        present = self.present(org)
        kind = rng.choices(
            ["register", "return", "lost", "orglife", "service", "fund", "lead", "briefing"],
            weights=[4, 1, 1, 2, 2, 2, 1, 1],
        )[0]
        if kind == "register" or (kind in ("return", "lost", "orglife") and not present):
            return self._register(org, now)
        if kind in ("return", "lost"):
            member = rng.choice(present)
            member.stays[-1].until = now
            if kind == "return":
                return member.node, _item(
                    "member.returned", now, {"member_id": member.member_id, "note": "返乡"}
                )
            last = (now - timedelta(days=45)).date().isoformat()
            return member.node, _item(
                "member.contact_lost", now, {"member_id": member.member_id, "last_contact_on": last}
            )
        if kind == "orglife":
            attendees = [m.member_id for m in rng.sample(present, max(1, len(present) * 2 // 3))]
            return org, _item(
                "orglife.held",
                now,
                {"org_id": org, "kind": "theme_day", "topic": "主题党日", "attendees": attendees},
            )
        if kind == "service":
            return "dongguan", _item(
                "service.provided",
                now,
                {"org_id": "dongguan", "line": rng.choice(LINES), "people": rng.randint(1, 20)},
            )
        if kind == "fund":
            source = rng.choice(["member_donation", "org_raised", "host_subsidy"])
            return org, _item(
                "fund.received",
                now,
                {"org_id": org, "source": source, "amount_fen": rng.randint(100, 5_000) * 100},
            )
        if kind == "lead":
            return org, _item(
                "investment.lead", now, {"org_id": org, "kind": "information", "title": "家乡招商信息"}
            )
        return org, _item(
            "liaison.briefing", now, {"org_id": org, "host_org": out.host_org, "topic": "情况通报"}
        )

    def backdated(self, org_id: str, now: datetime) -> Item:
        """Something that happened days ago and is entered only now (a late arrival)."""
        when = now - timedelta(days=self.rng.randint(2, 9))
        return _item(
            "liaison.briefing",
            when,
            {"org_id": org_id, "host_org": BY_ID[org_id].host_org, "topic": "补录：离线期间的情况通报"},
        )

    def _register(self, org: str, now: datetime) -> tuple[str, Item]:
        tl = Timeline(self.rng, now.date(), now.date())
        home = self.rng.choice(self.members).home_branch if self.members else "chengguan-shangtang"
        member = register(tl, self.index, home, BY_ID[org], now)
        self.index += 1
        member.stays[-1] = Stay(org, now)
        self.members.append(member)
        (item,) = tl.items()[org]
        return org, item


def _item(type_: str, when: datetime, payload: dict[str, object]) -> Item:
    return {"type": type_, "occurred_at": when.isoformat(), "payload": payload}
