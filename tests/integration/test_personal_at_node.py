"""Personal data sealed at the node (issue 15): nothing in clear on NATS or in the node's files, no
way back from a member id to an ID number, the node's own members shown offline, keys delivered
to the county by request-reply and marked only on a trusted ack, the key store in backups."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.branch_node import backup as node_backup
from services.branch_node.application import BatchError
from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.inputs import parse_item
from services.branch_node.key_delivery import KeyCourier
from services.branch_node.keystore import PERSONAL_FILE
from services.branch_node.members import MemberIndex
from services.branch_node.service import NodeService
from shared.personal import ERASED, KeyAck, KeyDelivery
from shared.signing import Signer
from shared.transport import connect
from shared.wire import keys_filter
from tests.conftest import make_node_dir
from tests.integration.test_forwarding import Running, wait_until
from tests.samples import id_number, registration
from tests.streams import ensure_stream_sync, read_stream
from tongxin.natsd import EmbeddedNats

PEOPLE = range(0, 30)


def clear_registration(i: int) -> dict[str, Any]:
    """As a clerk types it: no member id (the node gives a random one)."""
    item = registration(i)
    del item["payload"]["member_id"]
    return item


def secrets_of(person: int) -> list[bytes]:
    name = f"成员{person}"
    return [
        id_number(person).encode(),
        name.encode("utf-8"),
        json.dumps(name).strip('"').encode(),  # \u-escaped
        f"138{person:08d}".encode(),
    ]


def files_of(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.is_file()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[EmbeddedNats, NodeService]]:
    """A nats-server with users (the node allowed as itself), its streams, and a node."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    node = NodeService(make_node_dir(tmp_path / "node", nats_url=server.url))
    try:
        assert server.access is not None
        server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())
        ensure_stream_sync(server.url, server.identity("operator"))
        yield server, node
    finally:
        node.close()
        server.stop()


def test_a_registration_forwarded_carries_no_id_number_name_or_phone_in_clear(
    served: tuple[EmbeddedNats, NodeService],
) -> None:
    server, node = served
    node.record([parse_item(clear_registration(i), node.keys) for i in PEOPLE])
    member = node.keys.member_of(id_number(3))
    assert member is not None
    update = {
        "member_id": member,
        "personal": {"name": "新名字", "id_number": id_number(3), "phone": "13912345678"},
    }
    node.record([parse_item({"type": "member.details_updated", "payload": update}, node.keys)])
    fwd = Forwarder(node, server.url, backoff=Backoff(base=0.05, cap=0.2))
    with Running(fwd):
        wait_until(lambda: node.status().waiting == 0, what="forwarding")
    messages = read_stream(server.url, server.identity("operator"))
    assert len(messages) == len(PEOPLE) + 1
    assert all(b'"sealed"' in data for _, data in messages)
    raw = b"".join(data for _, data in messages)
    everything = [(p.name, p.read_bytes()) for p in files_of(node.dir.path)]
    assert {PERSONAL_FILE, "log.db"} <= {name for name, _ in everything}
    for person in PEOPLE:
        for secret in secrets_of(person):
            assert secret not in raw, (person, secret)
            for name, data in everything:
                assert secret not in data, (person, secret, name)
    for secret in ("新名字".encode(), json.dumps("新名字").strip('"').encode(), b"13912345678"):
        assert secret not in raw
        assert all(secret not in data for _, data in everything)


def _candidate_keys(data_dir: Path) -> list[bytes]:
    """Every secret-looking value of the data dir: each file whole and stripped, hex decoded, and
    every value of every SQLite table."""
    found: list[bytes] = []
    for path in files_of(data_dir):
        data = path.read_bytes()
        found += [data, data.strip()]
        with contextlib.suppress(ValueError):
            found.append(bytes.fromhex(data.decode().strip()))
        if data.startswith(b"SQLite format 3"):
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
                for table in tables:
                    for row in conn.execute(f'SELECT * FROM "{table}"'):
                        for value in row:
                            if isinstance(value, bytes):
                                found.append(value)
                            elif isinstance(value, str) and len(value) <= 200:
                                found.append(value.encode())
                                with contextlib.suppress(ValueError):
                                    found.append(bytes.fromhex(value))
            finally:
                conn.close()
    return [k for k in dict.fromkeys(found) if k]


def test_the_node_files_do_not_turn_a_member_id_back_into_its_id_number(node: NodeService) -> None:
    node.record([parse_item(clear_registration(i), node.keys) for i in range(5)])
    members = {i: node.keys.member_of(id_number(i)) for i in range(5)}
    assert all(members.values()) and len(set(members.values())) == 5
    node.close()
    keys = _candidate_keys(node.dir.path)
    assert len(keys) > 20
    candidates = [id_number(i) for i in range(200)]
    for i, member in members.items():
        assert id_number(i) in candidates
        for key in keys:
            for number in candidates:
                digest = hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
                assert member not in digest, (i, number)


def test_the_same_id_number_twice_at_one_node_is_refused(node: NodeService) -> None:
    node.record([parse_item(clear_registration(1), node.keys)])
    member = node.keys.member_of(id_number(1))
    again = parse_item(clear_registration(1), node.keys)
    assert again.body.member_id == member  # type: ignore[attr-defined]
    with pytest.raises(BatchError, match="already registered"):
        node.record([again])
    other = clear_registration(1)
    other["payload"]["member_id"] = "ab" * 16
    with pytest.raises(BatchError) as caught:
        node.record([parse_item(other, node.keys)])
    [(_, error)] = caught.value.errors
    assert error.field == "payload.personal.id_number" and member in error.message
    assert not node.keys.has_keys("ab" * 16)  # nothing kept of the refused batch
    twice = [parse_item(clear_registration(2), node.keys), parse_item(clear_registration(2), node.keys)]
    with pytest.raises(BatchError):
        node.record(twice)
    assert node.keys.member_of(id_number(2)) is None
    assert node.keys.count_undelivered() == 1


def test_the_node_shows_its_clerk_its_members_offline_and_an_erased_one_as_erased(node: NodeService) -> None:
    node.record([parse_item(clear_registration(i), node.keys) for i in range(3)])
    index = MemberIndex(node.log, node.keys)
    shown = index.all()
    assert [(m.name, m.id_tail) for m in shown] == [(f"成员{i}", id_number(i)[-4:]) for i in range(3)]
    assert node.keys.destroy(shown[1].member_id) == 1
    after = index.all()
    assert (after[1].name, after[1].id_tail) == (ERASED, ERASED)
    assert after[0].name == "成员0"


def test_personal_db_is_private(node: NodeService) -> None:
    assert stat.S_IMODE((node.dir.path / PERSONAL_FILE).stat().st_mode) == 0o600
    assert node.keys._conn.execute("PRAGMA secure_delete").fetchone()[0] == 1


class StandIn:
    """The county's key responder, stood in for: answers each KeyDelivery with a KeyAck signed by
    `signer`, after opening the key with `receipt_key` (the county key the node seals to)."""

    def __init__(self, server: EmbeddedNats, receipt_key: Signer, signer: Signer) -> None:
        self.server, self.receipt_key, self.signer = server, receipt_key, signer
        self.keys: dict[str, bytes] = {}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        self.stop = asyncio.Event()
        nc = await connect(self.server.url, identity=self.server.identity("county"))

        async def answer(msg: Any) -> None:
            d = msgspec.json.decode(msg.data, type=KeyDelivery)
            self.keys[d.key_id] = self.receipt_key.unseal(base64.b64decode(d.sealed_key))
            unsigned = KeyAck(
                node_id=d.node_id,
                key_id=d.key_id,
                stored=True,
                county_key_id=self.signer.key_id,
                sig="0" * 128,
            )
            ack = msgspec.structs.replace(unsigned, sig=self.signer.sign(unsigned.digest()).hex())
            await msg.respond(msgspec.json.encode(ack))

        await nc.subscribe(keys_filter("jx"), cb=answer)
        await nc.flush()
        self.ready.set()
        await self.stop.wait()
        await nc.close()

    def __enter__(self) -> StandIn:
        self.thread.start()
        assert self.ready.wait(15)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(15)
        self.loop.close()


class Courier:
    def __init__(self, courier: KeyCourier) -> None:
        self.courier = courier
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(courier.run(self.stop),))

    def __enter__(self) -> Courier:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.loop.call_soon_threadsafe(self.courier.wake.set)
        self.thread.join(15)
        self.loop.close()


def test_keys_reach_the_county_and_only_a_trusted_ack_marks_them_delivered(
    served: tuple[EmbeddedNats, NodeService],
) -> None:
    server, node = served
    county = Signer.generate()
    node.record([parse_item(clear_registration(i), node.keys) for i in range(4)])
    assert node.status().keys_undelivered == 4
    fast = Backoff(base=0.05, cap=0.2)
    # no county key: nothing is sent, the keys wait
    with (
        StandIn(server, county, county) as stand_in,
        Courier(KeyCourier(node, server.url, idle_poll=0.05, backoff=fast)),
    ):
        time.sleep(0.5)
        assert stand_in.keys == {} and node.status().keys_undelivered == 4
    node.county_trust.add(county.public_key_hex)
    impostor = Signer.generate()
    with StandIn(server, county, impostor) as stand_in:
        courier = KeyCourier(node, server.url, idle_poll=0.05, timeout=2, backoff=fast)
        with Courier(courier):
            wait_until(lambda: len(stand_in.keys) >= 1, what="a delivery")
            wait_until(lambda: courier.last_error is not None, what="the untrusted ack refused")
        assert "not signed by a county key this node trusts" in (courier.last_error or "")
        assert node.status().keys_undelivered == 4
    with StandIn(server, county, county) as stand_in:
        courier = KeyCourier(node, server.url, idle_poll=0.05, timeout=2, backoff=fast)
        with Courier(courier):
            wait_until(lambda: node.status().keys_undelivered == 0, what="keys delivered")
        assert courier.delivered == 4
    stored = node.keys.undelivered()
    assert stored == []
    # the county opened each key as the node holds it
    conn = sqlite3.connect(node.dir.path / PERSONAL_FILE)
    try:
        held = dict(conn.execute("SELECT key_id, key FROM member_keys").fetchall())
    finally:
        conn.close()
    assert {k: bytes(v) for k, v in held.items()} == stand_in.keys


def test_a_backup_and_restore_keep_the_key_store(tmp_path: Path, node: NodeService) -> None:
    node.record([parse_item(clear_registration(i), node.keys) for i in range(3)])
    (node.dir.path / "county.secret").write_text("5e" * 32 + "\n")  # an older node's: left alone
    made = node_backup.backup(node.dir.path, tmp_path / "backup")
    assert PERSONAL_FILE in {f.path for f in made.files}
    assert "county.secret" not in {f.path for f in made.files}
    node_backup.restore(tmp_path / "backup", tmp_path / "restored")
    restored = NodeService(tmp_path / "restored")
    try:
        assert stat.S_IMODE((restored.dir.path / PERSONAL_FILE).stat().st_mode) == 0o600
        names = [m.name for m in MemberIndex(restored.log, restored.keys).all()]
        assert names == [f"成员{i}" for i in range(3)]
        assert restored.keys.member_of(id_number(1)) == node.keys.member_of(id_number(1))
        assert restored.verify().ok
    finally:
        restored.close()
