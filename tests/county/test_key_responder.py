"""The county's key responder (issue 15): a member key a node delivers on its keys subject is
stored wrapped and acknowledged, signed; a delivery that is not the enrolled, unrevoked node's
own, or sealed to another county key, or too large, is refused with the reason."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import msgspec
import nats
import pytest
from sqlalchemy import Engine, select

from services.county.db import tables as t
from services.county.ingest.processor import Ingestor
from services.county.keys import CountySigning
from services.county.personal.master import MasterKey, MasterKeyError, default_path
from services.county.personal.responder import MAX_DELIVERY_BYTES, answer, serve_keys
from services.county.personal.tables import identity_index, member_keys
from shared.personal import KeyAck
from shared.signing import Signer, Verifier
from shared.wire import keys_subject
from tests.county.helpers import enrol_nodes, feed, open_node
from tests.county.personal_scenario import ID_A, delivery, key_store, register_sealed, setup_orgs

SUBJECT = keys_subject("jx", "dongguan")


def _ack(data: bytes, county: Signer) -> KeyAck:
    ack = msgspec.json.decode(data, type=KeyAck)
    assert Verifier(county.public_key).verify(ack.digest(), bytes.fromhex(ack.sig))
    return ack


def test_a_delivered_key_is_stored_once_and_indexed(county_engine: Engine, tmp_path: Path) -> None:
    node, other = open_node(tmp_path, "dongguan"), open_node(tmp_path, "huadu")
    enrol_nodes(county_engine, node, other, office="dongguan")
    sealed = register_sealed(node, "张三", ID_A)
    feed(Ingestor(county_engine, "jx"), setup_orgs(node) + sealed.envelopes)
    county, store = Signer.generate(), key_store(tmp_path)
    signing = CountySigning(county)
    data = delivery("dongguan", node.first_key, sealed, county)
    for _ in range(2):  # a redelivery changes nothing
        ack = answer(county_engine, "jx", signing, store, SUBJECT, data)
        assert (ack.stored, ack.refused, ack.key_id) == (True, "", sealed.key.key_id)
    with county_engine.connect() as conn:
        rows = list(conn.execute(select(member_keys)))
        assert len(rows) == 1 and sealed.key.key.hex() not in repr(rows)
        assert store.get(conn, sealed.member_id, sealed.key.key_id) == sealed.key.key
        assert conn.execute(select(identity_index.c.member_id)).scalars().all() == [sealed.member_id]

    def refused(data: bytes, subject: str = SUBJECT, signing: CountySigning = signing) -> str:
        ack = answer(county_engine, "jx", signing, store, subject, data)
        assert not ack.stored
        return ack.refused

    assert refused(delivery("dongguan", Signer.generate(), sealed, county)).startswith("sig:")
    forged = msgspec.json.decode(delivery("dongguan", node.first_key, sealed, county))
    forged["sig"] = "ab" * 64
    assert refused(msgspec.json.encode(forged)) == "sig: the signature does not verify"
    assert refused(delivery("huadu", other.first_key, sealed, county)).startswith("node_id:")  # on dongguan's
    stranger = Signer.generate()
    unknown = keys_subject("jx", "nowhere")
    assert refused(delivery("nowhere", stranger, sealed, county), unknown) == "node_id: not an enrolled node"
    assert refused(delivery("dongguan", node.first_key, sealed, county, to=Signer.generate())).startswith(
        "sealed_key:"
    )
    assert refused(delivery("dongguan", node.first_key, sealed, Signer.generate())).startswith(
        "county_key_id:"
    )
    assert refused(b"{" + b" " * MAX_DELIVERY_BYTES + b"}").startswith("too large")
    assert refused(b"not json").startswith("not a key delivery")
    # a previous county key still opens a delivery while it co-signs
    newer = Signer.generate()
    overlapping = CountySigning(newer, county, "2999-01-01T00:00:00.000000Z")
    assert answer(county_engine, "jx", overlapping, store, SUBJECT, data).stored
    ended = CountySigning(newer, county, "2020-01-01T00:00:00.000000Z")
    assert refused(data, signing=ended).startswith("county_key_id:")
    with county_engine.begin() as conn:
        conn.execute(
            t.node_keys.update().where(t.node_keys.c.node_id == "dongguan").values(revoked_from_seq=1)
        )
    assert refused(data).startswith("sig:") and "revoked" in refused(data)


@pytest.mark.parametrize("county_db_url", ["sqlite"], indirect=True)
def test_the_responder_answers_on_a_real_nats_server(
    county_engine: Engine, tmp_path: Path, nats_server: object
) -> None:
    node = open_node(tmp_path, "dongguan")
    enrol_nodes(county_engine, node)
    sealed = register_sealed(node, "张三", ID_A)
    county, store = Signer.generate(), key_store(tmp_path)
    url = nats_server.url  # type: ignore[attr-defined]

    async def main() -> tuple[bytes, bytes]:
        nc = await nats.connect(url)
        sub = await serve_keys(nc, county_engine, "jx", CountySigning(county), store)
        try:
            good = await nc.request(SUBJECT, delivery("dongguan", node.first_key, sealed, county), timeout=5)
            bad = await nc.request(SUBJECT, b"x" * (MAX_DELIVERY_BYTES + 1), timeout=5)
            return good.data, bad.data
        finally:
            await sub.unsubscribe()
            await nc.close()

    good, bad = asyncio.run(main())
    assert _ack(good, county).stored
    assert "too large" in _ack(bad, county).refused
    with county_engine.connect() as conn:
        assert store.get(conn, sealed.member_id, sealed.key.key_id) == sealed.key.key


def test_the_master_key_is_a_0600_file_outside_the_database(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "county-personal.key"
    master = MasterKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    assert MasterKey.load_or_create(path) == master and stat.S_IMODE(path.stat().st_mode) == 0o600
    wrapped = master.wrap("a" * 32, "b" * 32, b"k" * 32)
    assert master.unwrap("a" * 32, "b" * 32, wrapped) == b"k" * 32
    assert master.unwrap("c" * 32, "b" * 32, wrapped) is None  # bound to its member and key id
    assert MasterKey.load_or_create(tmp_path / "other.key").unwrap("a" * 32, "b" * 32, wrapped) is None
    assert master.index_key != master.key
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(MasterKeyError):
        MasterKey.load_or_create(tmp_path / "bad.key")
    assert default_path(Path("/srv/county/tongxin-county.key")) == Path(
        "/srv/county/tongxin-county-personal.key"
    )
