"""The attacker's probe of issue 14, as signed chains: nodes that speak out of turn.

A real branch node refuses to record an event about a member it did not register, so a node
speaking out of turn is a node whose key signs what its own software would not: the chains here
are made and signed directly (`Chain`), as such a node would. Everything else about them is
genuine: contiguous seqs, linked hashes, enrolled keys.

    county-office  the tree: county, the outstations dongguan, beijing, shenzhen
    shenzhen       day 1 registers M (outstation shenzhen)       ; day 7 moves M to beijing  (LAST)
    dongguan       day 2 fund 1,000 (own)  ; day 3 fund 99,999 FOR BEIJING ; day 4 fund 2,000 (own)
    beijing        day 2 fund 500 (own)    ; day 5 M transferred out (not its member yet)
                                           ; day 8 M contact lost (its member since day 7)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from services.county.registry import enrol
from shared.envelope import GENESIS_HASH, decode
from shared.signing import Signer
from tests.conftest import COUNTY_SECRET
from tests.county.helpers import craft
from tests.ids import member_id, parse_county_secret
from tests.samples import id_number

OFFICE = "county-office"
M = member_id(parse_county_secret(COUNTY_SECRET), id_number(1))


def day(n: int) -> str:
    return f"2026-03-{n:02d}T02:00:00.000000Z"


class Chain:
    """One node's chain, signed by its own key, one event at a time."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        self.signer = Signer.generate()
        self.envelopes: list[bytes] = []

    def add(self, type_: str, n: int, **payload: Any) -> bytes:
        prev = decode(self.envelopes[-1]).hash if self.envelopes else GENESIS_HASH
        data = craft(
            self.signer,
            node_id=self.node_id,
            seq=len(self.envelopes) + 1,
            type_=type_,
            payload={"type": type_, **payload},
            prev_hash=prev,
            occurred_at=day(n),
        )
        self.envelopes.append(data)
        return data


def fund(chain: Chain, n: int, org: str, amount: int) -> bytes:
    return chain.add("fund.received", n, org_id=org, source="fiscal", amount_fen=amount, note="")


def outstation(org_id: str) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "name": f"驻{org_id}党支部",
        "kind": "outstation",
        "parent_id": "county",
        "host_location": org_id,
        "mode": "service_station",
    }


def scenario() -> dict[str, Chain]:
    office, dongguan, beijing, shenzhen = (Chain(n) for n in (OFFICE, "dongguan", "beijing", "shenzhen"))
    office.add("org.registered", 1, org_id="county", name="江县县委", kind="county_committee")
    for org_id in ("dongguan", "beijing", "shenzhen"):
        office.add("org.registered", 1, **outstation(org_id))
    shenzhen.add(
        "member.registered",
        1,
        member_id=M,
        personal={"name": "成员一", "id_number": id_number(1)},
        home_branch="v1",
        outstation="shenzhen",
        host_location="广东深圳",
        flowed_out_on="2019-03-01",
    )
    fund(dongguan, 2, "dongguan", 1_000)
    fund(dongguan, 3, "beijing", 99_999)  # out of turn: not_own_org
    fund(dongguan, 4, "dongguan", 2_000)
    fund(beijing, 2, "beijing", 500)
    beijing.add("member.transferred_out", 5, member_id=M, to_org="北京某党支部", note="")  # not_own_member
    beijing.add(
        "member.contact_lost", 8, member_id=M, last_contact_on=None, note=""
    )  # M is beijing's by then
    shenzhen.add("member.moved", 7, member_id=M, outstation="beijing", host_location="北京", host_org=None)
    return {c.node_id: c for c in (office, dongguan, beijing, shenzhen)}


def enrol_chains(engine: Engine, chains: dict[str, Chain]) -> None:
    with engine.begin() as conn:
        for chain in chains.values():
            office = chain.node_id == OFFICE
            orgs = ["county"] if office else None
            enrol(conn, chain.node_id, chain.signer.public_key_hex, org_ids=orgs, office=office)
