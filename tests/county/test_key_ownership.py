"""Issue 13, case 1: a node's key belongs to that node. An enrolled node that publishes its own,
validly signed `node.key_rotated` naming another node's key is refused on first sight
(`key_taken`), and the other node's key row, chain and audit stay whole, also after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services.county.audit.archive import verify_archive
from services.county.db import tables as t
from services.county.ingest.incoming import Outcome
from services.county.ingest.processor import Ingestor
from services.county.registry import enrol
from shared import envelope
from shared.errors import FieldError
from shared.signing import Signer
from shared.transport import connect
from shared.wire import events_subject, msg_id
from tests.county.helpers import count, craft, enrol_nodes, feed, open_node, record
from tests.county.test_ingest_nats import forward_all, ingest_once
from tests.samples import fund
from tongxin.natsd import EmbeddedNats


async def _publish(url: str, node_id: str, data: bytes) -> None:
    env = envelope.decode(data)
    nc = await connect(url)
    try:
        headers = {"Nats-Msg-Id": msg_id(node_id, env.seq, env.hash)}
        await nc.jetstream().publish(events_subject("jx", node_id), data, headers=headers)
    finally:
        await nc.close()


def _keys(engine: Engine) -> list[tuple[str, str, int, int | None]]:
    c = t.node_keys.c
    with engine.connect() as conn:
        query = select(c.node_id, c.key_id, c.valid_from_seq, c.valid_to_seq).order_by(c.node_id, c.key_id)
        return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def test_a_node_cannot_rotate_to_another_nodes_key(
    nats_server: EmbeddedNats, county_engine: Engine, tmp_path: Path
) -> None:
    victim, crafted = open_node(tmp_path, "victim"), open_node(tmp_path, "crafted-hij")
    record(victim, [fund(i, org="victim") for i in range(3)])
    enrol_nodes(county_engine, victim, crafted)
    before = _keys(county_engine)
    theft = craft(
        crafted.signer,
        node_id="crafted-hij",
        seq=1,
        type_="node.key_rotated",
        payload={"new_key_id": victim.first_key.key_id, "new_public_key": victim.first_key.public_key_hex},
        prev_hash=envelope.GENESIS_HASH,
    )
    asyncio.run(_publish(nats_server.url, "crafted-hij", theft))
    forward_all(nats_server.url, victim)
    consumer = ingest_once(county_engine, nats_server.url)
    assert consumer.ingestor.counts == {Outcome.ARCHIVED: 3, Outcome.QUARANTINED: 1}, "refused on first sight"
    with county_engine.connect() as conn:
        ((reason, detail),) = conn.execute(select(t.quarantine.c.reason, t.quarantine.c.detail)).all()
    assert reason == "key_taken" and "node victim" in detail and detail.startswith("new_public_key")
    assert _keys(county_engine) == before, "no key row moved to another node"

    record(victim, [fund(i, org="victim") for i in range(3, 5)])  # after a restart of the county
    forward_all(nats_server.url, victim)
    assert ingest_once(county_engine, nats_server.url).ingestor.counts == {Outcome.ARCHIVED: 2}
    assert count(county_engine, t.archive) == 5
    with county_engine.connect() as conn:
        report = verify_archive(conn, ["victim", "crafted-hij"], county_key=None, county_id="jx", workers=0)
    assert report.faults == [] and report.nodes["victim"].head_seq == 5


def test_a_rotation_to_a_key_of_its_own_past_is_refused_and_a_fresh_one_is_followed(
    county_engine: Engine, tmp_path: Path
) -> None:
    """Two nodes, each rotating: a fresh key is followed; a key the node had before, or one the
    other node holds, is refused before anything is written."""
    a, b = open_node(tmp_path, "a-node"), open_node(tmp_path, "b-node")
    enrol_nodes(county_engine, a, b)
    fresh = Signer.generate()
    first = craft(
        a.signer,
        node_id="a-node",
        seq=1,
        type_="node.key_rotated",
        payload={"new_key_id": fresh.key_id, "new_public_key": fresh.public_key_hex},
        prev_hash=envelope.GENESIS_HASH,
    )
    back = craft(
        fresh,
        node_id="a-node",
        seq=2,
        type_="node.key_rotated",
        payload={"new_key_id": a.first_key.key_id, "new_public_key": a.first_key.public_key_hex},
        prev_hash=envelope.decode(first).hash,
    )
    onto_a = craft(
        b.signer,
        node_id="b-node",
        seq=1,
        type_="node.key_rotated",
        payload={"new_key_id": fresh.key_id, "new_public_key": fresh.public_key_hex},
        prev_hash=envelope.GENESIS_HASH,
    )
    ingestor = Ingestor(county_engine, "jx")
    assert feed(ingestor, [first, back, onto_a]) == ["archived", "quarantined", "quarantined"]
    with county_engine.connect() as conn:
        details = conn.execute(select(t.quarantine.c.detail).order_by(t.quarantine.c.id)).scalars().all()
    assert "this node already" in details[0] and "node a-node" in details[1]
    assert [(n, k, f, to) for n, k, f, to in _keys(county_engine) if n == "a-node"] == sorted(
        [("a-node", a.first_key.key_id, 1, 1), ("a-node", fresh.key_id, 2, None)], key=lambda r: r[1]
    )
    with county_engine.begin() as conn, pytest.raises(FieldError, match="already enrolled for node a-node"):
        enrol(conn, "c-node", fresh.public_key_hex)  # enrolment cannot take a held key either
