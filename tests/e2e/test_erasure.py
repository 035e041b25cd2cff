"""Erasure end to end (issue 15), on a real nats-server with users and SQLite or PostgreSQL:
a member registered at an outstation, sealed there; the key reaches the county outside the
archive; the county office's node records `member.erased`; then no key of that member is left at
the county or at the node (nor any copy of its bytes in any file of theirs or of NATS), the
sealed box opens nowhere, every view shows `[已删除]` while the member still counts, `audit
verify` passes, and the digest is equal live, rebuilt and replayed."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from bench.loop import Loop
from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.key_delivery import KeyCourier
from services.branch_node.keystore import PERSONAL_FILE
from services.branch_node.service import NodeService
from services.county.accounts.roles import Role
from services.county.api.app import create_app
from services.county.db import tables as t
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.keys import CountySigning
from services.county.personal.notices import send_notices
from services.county.personal.responder import answer_keys
from services.county.personal.tables import erased_members, member_keys
from services.county.projections.roster import members
from shared.personal import ERASED
from shared.signing import Signer
from tests.accounts import bearer
from tests.conftest import make_node_dir
from tests.county.helpers import enrol_nodes
from tests.e2e.conftest import tongxin
from tests.integration.test_forwarding import wait_until
from tests.samples import registration
from tests.streams import ensure_stream_sync
from tongxin.natsd import EmbeddedNats

COUNTY = Signer.generate()
NODES = ("dongguan", "office")


class County:
    """The nodes' forwarders and key couriers and the county's consumer (with its key responder
    and erasure notices), each on its own event loop."""

    def __init__(self, root: Path, server: EmbeddedNats, engine: Engine) -> None:
        self.root, self.server, self.engine = root, server, engine
        self.nodes = {
            n: NodeService(make_node_dir(root / n, n, server.url, COUNTY.public_key_hex)) for n in NODES
        }
        for node in self.nodes.values():
            server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())
        enrol_nodes(engine, *self.nodes.values(), office="office")
        self.county_key = root / "county.key"
        COUNTY.save(self.county_key)
        self.master = root / "personal.key"
        self.loops: list[tuple[Loop, tuple[Any, ...]]] = []

    def start(self) -> None:
        signing = CountySigning(COUNTY)
        consumer = Consumer(
            Ingestor(self.engine, "jx", signing), self.server.url, identity=self.server.identity("county"),
            batch=200, ack_wait=5.0, repair_grace=1.0,
        )  # fmt: skip
        self.store = answer_keys(consumer, self.engine, "jx", signing, self.master)
        send_notices(consumer, self.engine, "jx", signing)
        self.loops.append((Loop(consumer.run), ()))
        for node in self.nodes.values():
            fwd = Forwarder(node, self.server.url, backoff=Backoff(base=0.05, cap=0.5), repair_grace=1.0)
            self.loops.append((Loop(lambda stop, f=fwd: f.run(stop, idle_poll=0.05)), (fwd.wake,)))
            courier = KeyCourier(node, self.server.url, idle_poll=0.05, backoff=Backoff(base=0.05, cap=0.5))
            self.loops.append((Loop(courier.run), (courier.wake,)))

    def close(self) -> None:
        for loop, wake in reversed(self.loops):
            loop.close(*wake)
        for node in self.nodes.values():
            node.close()

    def count(self, query: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@pytest.fixture
def county(tmp_path: Path, county_engine: Engine) -> Iterator[County]:
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    built: County | None = None
    try:
        ensure_stream_sync(server.url, server.identity("operator"))
        built = County(tmp_path, server, county_engine)
        built.start()
        yield built
    finally:
        if built is not None:
            built.close()
        server.stop()


def clear_registration(i: int) -> dict[str, Any]:
    item = registration(i)
    del item["payload"]["member_id"]  # as a clerk types it: the node draws a random id
    return item


def traces(key: bytes) -> list[bytes]:
    """The forms a key's bytes could take in a file: raw, hex, base64."""
    return [key, key.hex().encode(), base64.b64encode(key)]


def files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def test_an_erased_member_leaves_no_key_anywhere_and_every_chain_still_verifies(
    county: County, county_db_url: str
) -> None:
    dongguan, office = county.nodes["dongguan"], county.nodes["office"]
    dongguan.record([parse_item(clear_registration(i), dongguan.keys) for i in range(3)])
    ids = [dongguan.keys.member_of(registration(i)["payload"]["personal"]["id_number"]) for i in range(3)]
    assert all(ids)
    erased, kept = str(ids[1]), [str(ids[0]), str(ids[2])]
    keys_at_county = select(func.count()).select_from(member_keys)
    wait_until(lambda: county.count(keys_at_county) == 3, what="the keys at the county")
    wait_until(lambda: county.count(select(func.count()).select_from(members)) == 3, what="the roster")
    conn = sqlite3.connect(dongguan.dir.path / PERSONAL_FILE)
    try:
        [(key,)] = conn.execute("SELECT key FROM member_keys WHERE member_id = ?", (erased,)).fetchall()
    finally:
        conn.close()
    with county.engine.connect() as c:
        wrapped = c.execute(
            select(member_keys.c.wrapped).where(member_keys.c.member_id == erased)
        ).scalar_one()

    decision = {
        "type": "member.erased",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "payload": {
            "member_id": erased,
            "decided_by": "县委组织部",
            "legal_basis": "《个人信息保护法》第四十七条；本人申请",
            "decided_on": "2026-03-02",
        },
    }
    office.record([parse_item(decision, office.keys)])
    erased_at_county = select(func.count()).select_from(erased_members)
    wait_until(lambda: county.count(erased_at_county) == 1, what="erased at the county")
    wait_until(lambda: not dongguan.keys.has_keys(erased), timeout=30, what="the node told")
    assert all(dongguan.keys.has_keys(m) for m in kept)

    # no key of the member at the county or the node, and no copy of its bytes in any file
    with county.engine.connect() as c:
        left = c.execute(select(member_keys.c.member_id).where(member_keys.c.member_id == erased)).all()
        assert left == [] and county.count(keys_at_county) == 2
        row = c.execute(select(members).where(members.c.member_id == erased)).mappings().one()
    assert row["name"] == ERASED and row["personal"] is None and row["erased"]
    searched = files(county.root / "dongguan", county.root / "office", county.root / "nats")
    searched += list(county.root.glob("county.db*"))  # SQLite's file, -wal, -shm (none on PostgreSQL)
    for path in searched:
        data = path.read_bytes()
        for trace in traces(bytes(key)):
            assert trace not in data, f"the erased member's key is still in {path}"
        assert wrapped.encode() not in data, f"the erased member's wrapped key is still in {path}"

    # every view: erased, while the member still counts
    app = create_app(county.engine, personal=county.store)
    with TestClient(app, headers=bearer(county.engine, Role.ANALYST)) as client:
        listed = client.get("/api/v1/roster/members", params={"limit": 50}).json()
        names = {m["member_id"]: m["name"] for m in listed["items"]}
        assert names[erased] == ERASED and {names[m] for m in kept} == {"成员0", "成员2"}
        assert listed["total"] == 3
        card = client.get(f"/api/v1/members/{erased}").json()
        assert card["name"] == ERASED and card.get("id_number") is None and card.get("phone") is None
        csv = client.get("/api/v1/roster/members.csv").content.decode("utf-8-sig")
        assert ERASED in csv and "成员1" not in csv
    with TestClient(app, headers=bearer(county.engine, Role.AUDITOR)) as auditor:
        revealed = auditor.post(f"/api/v1/members/{erased}/reveal", json={"reason": "核对删除结果"})
        assert revealed.status_code in (200, 404, 409, 410), revealed.text
        assert "成员1" not in revealed.text

    # the chains verify without any key; the digest is the same live, rebuilt and replayed
    key_file = str(county.county_key)
    verified = tongxin(
        "audit", "verify", "--db", county_db_url, "--county-key", key_file, "--county-id", "jx"
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    live = json.loads(tongxin("audit", "digest", "--db", county_db_url, "--json").stdout)["digest"]
    replayed = json.loads(tongxin("audit", "replay", "--db", county_db_url, "--json").stdout)
    assert len(live) == 64 and replayed["digest"] == live, replayed
    rebuilt = tongxin("county", "rebuild", "--db", county_db_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(tongxin("audit", "digest", "--db", county_db_url, "--json").stdout)["digest"] == live
    with county.engine.connect() as c:
        again = c.execute(select(members.c.name, members.c.erased).where(members.c.member_id == erased)).one()
        assert tuple(again) == (ERASED, True)
        assert c.execute(select(func.count()).select_from(t.archive)).scalar_one() >= 4
