"""What a node may say (issue 14), at the county, on SQLite and PostgreSQL: an event a node was not
entitled to make is archived — its chain whole, its receipt issued, `audit verify` green — but not
projected, and listed with its reason; a member's events from a node apply once the member has
moved there, whatever the arrival order; live, rebuild and replay decide alike."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update

from services.county.api.app import create_app
from services.county.audit.archive import archive_nodes, verify_archive
from services.county.audit.replay import Bounds, build
from services.county.db import tables as t
from services.county.ingest.incoming import Incoming
from services.county.ingest.processor import Ingestor
from services.county.projections.claims import refused_claims
from services.county.projections.digest import digest
from services.county.projections.orgs import orgs as org_rows
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared.errors import FieldError
from shared.signing import Signer, Verifier
from tests.accounts import CountyClient
from tests.county.authority_scenario import OFFICE, Chain, M, enrol_chains, scenario
from tests.county.helpers import subject
from tests.county.test_convergence import reset

COUNTY = Signer.generate()
FIRST, LAST = "2026-03-10T00:00:00.000000Z", "2026-03-11T00:00:00.000000Z"


def arrive(ingestor: Ingestor, datas: list[bytes], node_id: str, at: str) -> list[str]:
    return ingestor.process([Incoming(d, subject(node_id), at) for d in datas])


def claims_of(engine: Engine) -> dict[tuple[str, int], str]:
    with engine.connect() as conn:
        c = refused_claims.c
        return {(n, int(s)): r for n, s, r in conn.execute(select(c.node_id, c.seq, c.reason))}


def get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def funds_by_org(client: TestClient) -> dict[str, int]:
    groups = get(client, "/api/v1/figures/funds", group_by="org")["groups"]
    return {g["key"]: g["received_total"] for g in groups}


def member(client: TestClient) -> tuple[str, str | None]:
    card = get(client, f"/api/v1/members/{M}")
    return card["status"], card["outstation"]


def verified(engine: Engine) -> bool:
    with engine.connect() as conn:
        report = verify_archive(
            conn, archive_nodes(conn), county_key=Verifier(COUNTY.public_key), county_id="jx"
        )
    return report.ok


def test_out_of_turn_events_are_archived_listed_and_not_projected(county_engine: Engine) -> None:
    chains = scenario()
    enrol_chains(county_engine, chains)
    ingestor = Ingestor(county_engine, "jx", COUNTY)
    client = CountyClient(create_app(county_engine))
    moved = chains["shenzhen"].envelopes.pop()  # shenzhen's move of M to beijing arrives last
    for node_id, chain in chains.items():
        assert set(arrive(ingestor, chain.envelopes, node_id, FIRST)) == {"archived"}

    # dongguan's fund for beijing: not in beijing's figures; dongguan's next seq applies
    assert funds_by_org(client) == {"dongguan": 3_000, "beijing": 500}
    # beijing's events about shenzhen's member: not applied
    assert member(client) == ("out", "shenzhen")
    assert claims_of(county_engine) == {
        ("dongguan", 2): "not_own_org",
        ("beijing", 2): "not_own_member",
        ("beijing", 3): "not_own_member",
    }
    listed = get(client, "/api/v1/quarantine/claims", reason="not_own_org")
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert (item["node_id"], item["seq"], item["type"], item["subject"]) == (
        "dongguan",
        2,
        "fund.received",
        None,
    )
    assert "payload.org_id: beijing" in item["detail"] and item["received_at"] == FIRST
    assert get(client, "/api/v1/quarantine")["total"] == 0, "nothing is quarantined: all is archived"
    # the chain is whole, the receipts confirm every seq (no node re-sends), the counts show
    assert verified(county_engine)
    with county_engine.connect() as conn:
        r = t.receipts.c
        receipts = dict(conn.execute(select(r.node_id, func.max(r.seq)).group_by(r.node_id)).all())
    assert receipts["dongguan"] == 3 and receipts["beijing"] == 3
    health = {n["node_id"]: n for n in get(client, "/api/v1/nodes")["items"]}
    assert {n: h["refused_claims"] for n, h in health.items()} == {
        OFFICE: 0,
        "beijing": 2,
        "dongguan": 1,
        "shenzhen": 0,
    }
    assert (health[OFFICE]["office"], health[OFFICE]["org_ids"]) == (True, ["county"])
    assert health["dongguan"]["last_seq"] == 3
    metrics = client.get("/metrics").text
    assert 'tongxin_county_node_refused_claims{node_id="beijing"} 2.0' in metrics

    # the move arrives: beijing's contact loss (after the move) applies; its transfer (before) not
    assert arrive(ingestor, [moved], "shenzhen", LAST) == ["archived"]
    assert member(client) == ("contact_lost", "beijing")
    assert claims_of(county_engine) == {("dongguan", 2): "not_own_org", ("beijing", 2): "not_own_member"}
    assert verified(county_engine)

    # rebuild and replay decide alike; replay at the first arrival decides as the county did then
    with county_engine.connect() as conn:
        live = digest(conn)
    full = build(county_engine, Bounds())
    early = build(county_engine, Bounds(known_at=FIRST))
    try:
        assert full.result.digest == live
        assert claims_of(early.engine) == {
            ("dongguan", 2): "not_own_org",
            ("beijing", 2): "not_own_member",
            ("beijing", 3): "not_own_member",
        }
        assert early.result.rows["refused_claims"] == 3
    finally:
        full.close()
        early.close()
    with county_engine.begin() as conn:
        rebuild(conn)
        assert digest(conn) == live
    # as of day 8, the member as live: beijing's contact loss applied (the move is before it)
    card = get(client, f"/api/v1/members/{M}", as_of="2026-03-08")
    assert (card["status"], card["outstation"]) == ("contact_lost", "beijing")
    assert get(client, f"/api/v1/members/{M}", as_of="2026-03-06")["status"] == "out"


def test_outstations_may_not_speak_for_the_tree(county_engine: Engine) -> None:
    office, dongguan = Chain(OFFICE), Chain("dongguan")
    office.add("org.registered", 1, org_id="county", name="江县县委", kind="county_committee")
    office.add("org.registered", 1, org_id="beijing", name="驻京党支部", kind="outstation",
               parent_id="county", host_location="北京", mode="service_station")  # fmt: skip
    office.add("org.registered", 1, org_id="dongguan", name="驻莞党支部", kind="outstation",
               parent_id="county", host_location="东莞", mode="service_station")  # fmt: skip
    host = {"name": "长安镇党委", "kind": "host_org", "parent_id": "dongguan", "host_location": "东莞"}
    dongguan.add("org.registered", 2, org_id="changan", **host)  # its own host organisation: yes
    dongguan.add("org.registered", 1, org_id="beijing", **host)  # backdated, to take beijing over
    dongguan.add("org.secretary_appointed", 3, org_id="beijing", name="张三", member_id=None)
    dongguan.add("org.liaison_assigned", 3, org_id="dongguan", leader="李部长", office="组织一科",
                 guidance_every_months=1, lesson_every_months=3)  # fmt: skip
    dongguan.add("fund.received", 3, org_id="county", source="fiscal", amount_fen=100, note="")
    office.add("org.secretary_appointed", 3, org_id="beijing", name="王五", member_id=None)
    office.add("fund.received", 3, org_id="county", source="fiscal", amount_fen=700, note="")
    enrol_chains(county_engine, {OFFICE: office, "dongguan": dongguan})
    ingestor = Ingestor(county_engine, "jx")
    for chain in (dongguan, office):
        assert set(arrive(ingestor, chain.envelopes, chain.node_id, FIRST)) == {"archived"}
    assert claims_of(county_engine) == {
        ("dongguan", 2): "office_only",
        ("dongguan", 3): "not_own_org",
        ("dongguan", 4): "office_only",
        ("dongguan", 5): "not_own_org",
    }
    client = CountyClient(create_app(county_engine))
    with county_engine.connect() as conn:
        orgs = {r.org_id: r for r in conn.execute(select(org_rows))}
    assert (orgs["beijing"].kind, orgs["beijing"].secretary) == ("outstation", "王五")
    assert (orgs["changan"].kind, orgs["changan"].parent_id) == ("host_org", "dongguan")
    assert orgs["dongguan"].liaison_leader is None
    assert funds_by_org(client) == {"county": 700}


def test_whom_a_node_speaks_for_is_fixed_at_enrolment_or_declared_once(county_engine: Engine) -> None:
    office = Chain(OFFICE)
    office.add("org.registered", 1, org_id="county", name="江县县委", kind="county_committee")
    with county_engine.begin() as conn:  # enrolled before this release: no authority recorded
        enrol(conn, OFFICE, office.signer.public_key_hex)
        conn.execute(update(t.nodes).values(org_ids=None, office=None))
    assert arrive(Ingestor(county_engine, "jx"), office.envelopes, OFFICE, FIRST) == ["archived"]
    assert claims_of(county_engine) == {(OFFICE, 1): "office_only"}  # it spoke as "county-office"
    with county_engine.begin() as conn:  # declared once: the projections are decided again
        enrol(conn, OFFICE, office.signer.public_key_hex, org_ids=["county"], office=True)
    assert claims_of(county_engine) == {}
    with county_engine.begin() as conn:
        enrol(conn, OFFICE, office.signer.public_key_hex)  # again, saying nothing: no change
        enrol(conn, OFFICE, office.signer.public_key_hex, org_ids=["county"], office=True)
        with pytest.raises(FieldError, match="fixed at its enrolment"):
            enrol(conn, OFFICE, office.signer.public_key_hex, org_ids=["county", "beijing"], office=True)


@pytest.fixture(scope="module")
def probe() -> dict[str, Chain]:
    return scenario()


def test_the_verdicts_converge_in_any_arrival_order(county_engine: Engine, probe: dict[str, Chain]) -> None:
    """The probe's envelopes in any interleaving (each node's own order kept or not: a node's
    envelope past a gap is held) and any batch size: the same digest, refused claims included."""
    enrol_chains(county_engine, probe)
    tagged = [(chain.node_id, data) for chain in probe.values() for data in chain.envelopes]

    def outcome(order: list[tuple[str, bytes]], batch: int) -> tuple[str, dict[tuple[str, int], str]]:
        reset(county_engine)
        ingestor = Ingestor(county_engine, "jx")
        for i in range(0, len(order), batch):
            ingestor.process([Incoming(d, subject(n), FIRST) for n, d in order[i : i + batch]])
        with county_engine.connect() as conn:
            return digest(conn), claims_of(county_engine)

    reference = outcome(tagged, len(tagged))
    assert reference[1] == {("dongguan", 2): "not_own_org", ("beijing", 2): "not_own_member"}

    @settings(max_examples=30, deadline=None)
    @given(order=st.permutations(tagged), batch=st.integers(min_value=1, max_value=6))
    def arrival(order: list[tuple[str, bytes]], batch: int) -> None:
        assert outcome(order, batch) == reference

    arrival()
