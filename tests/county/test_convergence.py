"""Guarantee 4: the same events give the same projections whatever order they arrive in — events
spoken out of turn (docs/authority.md) among them: cross posts for other nodes' members, a home-side
review by an outstation, a fund for another organisation; their refusal converges too (the digest
covers the refused claims). tests/county/test_authority.py mixes in a member moved between nodes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, select

from services.county.db import tables as t
from services.county.ingest.processor import Ingestor
from services.county.projections.claims import refused_claims
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from shared import envelope
from tests.county.helpers import enrol_nodes, feed, open_node, record
from tests.samples import fund, id_number, registration

NODES = ("dongguan", "huadu", "hainan")


def _member(i: int) -> str:
    from tests.conftest import COUNTY_SECRET
    from tests.ids import member_id, parse_county_secret

    return member_id(parse_county_secret(COUNTY_SECRET), id_number(i))


def scenario(node_id: str, offset_days: int) -> list[dict[str, Any]]:
    """Each node's own story; hainan's happened a week earlier (it was offline)."""
    day = f"2026-03-{10 - offset_days:02d}"
    k = NODES.index(node_id)
    items: list[dict[str, Any]] = [
        {**registration(100 * k + i, outstation=node_id), "occurred_at": f"{day}T09:0{i}:00+08:00"}
        for i in range(6)
    ]
    items.append(
        {**registration(7, outstation=node_id), "occurred_at": f"{day}T10:00:00+08:00"}
    )  # everyone: a conflict
    items += [{**fund(i, org=node_id), "occurred_at": f"{day}T11:00:00+08:00"} for i in range(4)]
    other = NODES[(k + 1) % 3]
    items.append({**fund(9, org=other), "occurred_at": f"{day}T11:30:00+08:00"})  # out of turn
    mine = [_member(100 * k + i) for i in range(6)]
    items += [
        {
            "type": "member.moved",
            "occurred_at": f"{day}T12:00:00+08:00",
            "payload": {"member_id": mine[0], "outstation": "huadu", "host_location": "广州花都"},
        },
        {
            "type": "member.returned",
            "occurred_at": f"{day}T12:00:00+08:00",
            "payload": {"member_id": mine[1]},
        },
        {
            "type": "member.contact_lost",
            "occurred_at": f"{day}T13:00:00+08:00",
            "payload": {"member_id": mine[2]},
        },
        {
            "type": "member.returned",
            "occurred_at": f"{day}T15:00:00+08:00",
            "payload": {"member_id": _member(7)},
        },
        {
            "type": "post.cross_assigned",
            "occurred_at": f"{day}T14:00:00+08:00",
            "payload": {"member_id": _member(100 * ((k + 1) % 3)), "org_id": node_id, "post": "委员"},
        },
        {
            "type": "orglife.held",
            "occurred_at": f"{day}T16:00:00+08:00",
            "payload": {
                "org_id": node_id,
                "kind": "theme_day",
                "topic": "主题党日",
                "attendees": [*mine, _member(7)],
            },
        },
        {
            "type": "training.held",
            "occurred_at": f"{day}T17:00:00+08:00",
            "payload": {"org_id": node_id, "mode": "cloud", "title": "云党课", "attendees": mine[:3]},
        },
        {
            "type": "recruitment.reviewed",
            "occurred_at": f"{day}T18:00:00+08:00",
            "payload": {
                "candidate_id": _member(900),
                "org_id": node_id,
                "side": "outstation" if k else "home",
                "decision": "approved",
            },
        },
    ]
    return items


def corrections(node_id: str, offset_days: int, datas: list[bytes]) -> list[dict[str, Any]]:
    """Each node's corrections of its own story, that evening (docs/authority.md §6): a fund
    corrected twice (the newer wins), one voided, one moved to another node's organisation
    (refused: not_own_org), a return voided, an orglife with one attendee fewer, a move and a
    registration corrected."""
    envs = [envelope.decode(d) for d in datas]
    funds = [e for e in envs if e.type == "fund.received"]
    first = {e.type: e for e in reversed(envs)}
    other = NODES[(NODES.index(node_id) + 1) % 3]
    when = f"2026-03-{10 - offset_days:02d}T20:00:00+08:00"

    def fix(env: envelope.Envelope, **changes: Any) -> dict[str, Any]:
        replacement = json.loads(bytes(env.payload)) | changes
        payload = {"target_seq": env.seq, "target_event_id": env.event_id, "reason": "核对更正"}
        return {
            "type": "record.corrected",
            "occurred_at": when,
            "payload": payload | {"replacement": replacement},
        }

    def void(env: envelope.Envelope) -> dict[str, Any]:
        payload = {"target_seq": env.seq, "target_event_id": env.event_id, "target_type": env.type}
        return {"type": "record.voided", "occurred_at": when, "payload": payload | {"reason": "误录"}}

    attendees = json.loads(bytes(first["orglife.held"].payload))["attendees"]
    return [
        fix(funds[0], amount_fen=123_400),
        fix(funds[0], amount_fen=43_210),
        void(funds[1]),
        fix(funds[2], org_id=other),
        void(first["member.returned"]),
        fix(first["orglife.held"], attendees=attendees[1:], topic="主题党日（更正）"),
        fix(first["member.moved"], host_location="广州花都狮岭"),
        fix(first["member.registered"], occupation="皮具加工"),
    ]


@pytest.fixture(scope="module")
def envelopes(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], list[Any]]:
    root = tmp_path_factory.mktemp("nodes")
    datas: list[bytes] = []
    nodes = []
    for node_id in NODES:
        node = open_node(root, node_id)
        offset = 7 if node_id == "hainan" else 0
        own = record(node, scenario(node_id, offset))
        datas += own + record(node, corrections(node_id, offset, own))
        nodes.append(node)
    return datas, nodes


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(t.metadata.sorted_tables):
            if table not in (t.nodes, t.node_keys):
                conn.execute(delete(table))


def digest_after(engine: Engine, datas: list[bytes], batch: int) -> str:
    reset(engine)
    feed(Ingestor(engine, "jx"), datas, batch=batch)
    with engine.connect() as conn:
        return digest(conn)


def test_any_interleaving_and_any_delay_gives_the_same_digest(
    county_engine: Engine, envelopes: tuple[list[bytes], list[Any]]
) -> None:
    datas, nodes = envelopes
    enrol_nodes(county_engine, *nodes)
    reference = digest_after(county_engine, datas, 1000)
    with county_engine.connect() as conn:
        c = refused_claims.c
        reasons = dict(conn.execute(select(c.reason, func.count()).group_by(c.reason)).all())
    # dongguan's cross post for huadu's member and hainan's for dongguan's are refused; huadu's for
    # hainan's member 200 stands: hainan moved that member to huadu first, whatever arrives first;
    # each node's fund correction to another node's organisation is refused
    assert reasons == {"not_own_org": 6, "not_own_member": 2, "office_only": 1}
    with county_engine.begin() as conn:  # replay equality, with the corrections among the events
        rebuild(conn)
        assert digest(conn) == reference

    @settings(max_examples=25, deadline=None)
    @given(data=st.data())
    def arrival(data: st.DataObject) -> None:
        delayed = data.draw(st.sampled_from([None, *NODES]), label="node delayed to the end")
        shuffled = data.draw(st.permutations(datas), label="arrival order")
        if delayed is not None:
            late = [d for d in shuffled if f'"node_id":"{delayed}"'.encode() in d]
            shuffled = [d for d in shuffled if d not in late] + late
        batch = data.draw(st.integers(min_value=1, max_value=40), label="batch size")
        assert digest_after(county_engine, shuffled, batch) == reference

    arrival()
