"""Personal data at the county (issue 15): the roster holds the sealed form only; every read is
masked for every role; a reveal is a right, with a reason, recorded and listed; one ID number
under two random member ids is a conflict; the digest stays equal live and rebuilt."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from services.county.accounts.roles import Role
from services.county.api.app import create_app
from services.county.audit.export import Selection, write_export
from services.county.db.tables import metadata
from services.county.ingest.processor import Ingestor
from services.county.personal.index import index_members
from services.county.personal.store import KeyStore
from services.county.personal.tables import member_keys, reveals
from services.county.personal.view import KEY_MISSING
from services.county.projections import roster
from services.county.projections.digest import digest
from services.county.projections.rebuild import rebuild
from services.county.registry import enrol
from shared.envelope import GENESIS_HASH
from shared.signing import Signer
from tests.accounts import bearer
from tests.county.helpers import craft, enrol_nodes, feed, open_node
from tests.county.personal_scenario import ID_A, ID_B, Sealed, key_store, register_sealed, setup_orgs
from tests.samples import id_number

LEGACY_ID = id_number(3)
MASKED_A = "4311**********0898"


class World:
    def __init__(self, engine: Engine, tmp_path: Path) -> None:
        self.engine = engine
        self.store: KeyStore = key_store(tmp_path)
        self.node = open_node(tmp_path, "dongguan")
        self.other = open_node(tmp_path, "huadu")
        enrol_nodes(engine, self.node, self.other, office="dongguan")
        self.ingestor = Ingestor(engine, "jx")
        datas = setup_orgs(self.node)
        self.a = register_sealed(self.node, "张三", ID_A, "13812345678", home_branch="v1")
        self.b = register_sealed(self.node, "李四", ID_B, None, home_branch="v3")
        # an event recorded before sealing: its personal in clear, from a node of its own
        old = Signer.generate()
        with engine.begin() as conn:
            enrol(conn, "legacy", old.public_key_hex)
        payload = {
            "member_id": "ab" * 16,
            "personal": {"name": "王五", "id_number": LEGACY_ID},
            "home_branch": "v2",
            "flowed_out_on": "2026-01-10",
        }
        legacy = [
            craft(
                old,
                node_id="legacy",
                seq=1,
                type_="member.registered",
                payload=payload,
                prev_hash=GENESIS_HASH,
                occurred_at="2026-02-02T02:00:00.000000Z",
            )
        ]
        datas += self.a.envelopes + self.b.envelopes + legacy
        assert set(feed(self.ingestor, datas)) == {"archived"}
        with engine.begin() as conn:
            self.give(conn, self.a)  # b's key has not arrived

    def give(self, conn: Any, sealed: Sealed, node_id: str = "dongguan") -> None:
        self.store.put(conn, node_id, sealed.member_id, sealed.key.key_id, sealed.key.key)
        index_members(conn, self.store, [sealed.member_id])

    def client(self, role: Role, township: str | None = None) -> TestClient:
        app = create_app(self.engine, personal=self.store)
        return TestClient(app, headers=bearer(self.engine, role, township=township))


@pytest.fixture
def world(county_engine: Engine, tmp_path: Path) -> World:
    return World(county_engine, tmp_path)


def test_the_roster_holds_the_sealed_form_and_live_equals_rebuilt(world: World) -> None:
    with world.engine.connect() as conn:
        rows = {r.member_id: r for r in conn.execute(select(roster.members))}
        timeline = list(conn.execute(select(roster.member_timeline)))
    sealed = rows[world.a.member_id]
    assert sealed.name == "" and '"sealed"' in sealed.personal
    text = repr(list(rows.values())) + repr(timeline)
    for clear in ("张三", "李四", ID_A, ID_B, "13812345678"):
        assert clear not in text
    legacy = next(r for r in rows.values() if r.personal is None)
    assert legacy.name == "王五"  # an older clear event keeps its name; no ID number is kept
    assert LEGACY_ID not in text
    with world.engine.connect() as conn:
        live = digest(conn)
    with world.engine.begin() as conn:
        rebuild(conn)
    with world.engine.connect() as conn:
        assert digest(conn) == live


def _items(client: TestClient, **params: str) -> dict[str, dict[str, Any]]:
    found = client.get("/api/v1/roster/members", params=params)
    assert found.status_code == 200, found.text
    return {i["member_id"]: i for i in found.json()["items"]}


def test_every_read_is_masked_for_every_role(world: World) -> None:
    analyst = world.client(Role.ANALYST)
    items = _items(analyst)
    a, b = items[world.a.member_id], items[world.b.member_id]
    assert (a["name"], a["id_number"], a["phone"]) == ("张三", MASKED_A, "138****5678")
    assert (b["name"], b["id_number"], b["phone"]) == (KEY_MISSING, None, None)
    legacy = next(i for i in items.values() if i["member_id"] not in (world.a.member_id, world.b.member_id))
    assert (legacy["name"], legacy["id_number"]) == ("王五", None)
    card = analyst.get(f"/api/v1/members/{world.a.member_id}").json()
    assert (card["name"], card["id_number"], card["phone"]) == ("张三", MASKED_A, "138****5678")
    assert "personal" not in card
    alerts = analyst.get("/api/v1/alerts", params={"as_of": "2026-03-01"}).json()["items"]
    about_a = [x for x in alerts if x["member_id"] == world.a.member_id]
    assert about_a and {x["name"] for x in about_a} == {"张三"} and "personal" not in about_a[0]
    management = analyst.get(f"/api/v1/members/{world.a.member_id}/co-managers").json()
    assert management["name"] == "张三" and "id_number" not in management
    officer = world.client(Role.TOWNSHIP_OFFICER, "t1")
    assert _items(officer, township="t1")[world.a.member_id]["id_number"] == MASKED_A
    assert officer.get(f"/api/v1/members/{world.b.member_id}").status_code == 404  # t2's member
    for client in (analyst, officer):
        body = client.get("/api/v1/roster/members.csv").content.decode("utf-8-sig")
        assert ID_A not in body and "13812345678" not in body
        rows = {r["成员编号"]: r for r in csv.DictReader(io.StringIO(body))}
        assert rows[world.a.member_id]["身份证号"] == MASKED_A
        assert rows[world.a.member_id]["姓名"] == "张三"
        book = openpyxl.load_workbook(io.BytesIO(client.get("/api/v1/export/roster.xlsx").content))
        cells = [str(c) for row in book["花名册"].iter_rows(values_only=True) for c in row]
        assert MASKED_A in cells and ID_A not in cells and "13812345678" not in cells


def test_a_reveal_is_a_right_with_a_reason_and_is_recorded(world: World) -> None:
    url = f"/api/v1/members/{world.a.member_id}/reveal"
    for role, township in ((Role.ANALYST, None), (Role.TOWNSHIP_OFFICER, "t1")):
        refused = world.client(role, township).post(url, json={"reason": "核对身份信息"})
        assert refused.status_code == 403, refused.text
    auditor = world.client(Role.AUDITOR)
    assert auditor.post(url, json={}).status_code == 422
    assert auditor.post(url, json={"reason": "x" * 501}).status_code == 422
    for bad in ("    ", "核对\x00身份", "核对\n身份"):
        assert auditor.post(url, json={"reason": bad}).status_code == 422, bad
    shown = auditor.post(url, json={"reason": "核对重复登记"})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["name"], body["id_number"], body["phone"]) == ("张三", ID_A, "13812345678")
    operator = world.client(Role.OPERATOR)
    assert operator.post(url, json={"reason": "运维核查"}).json()["id_number"] == ID_A
    export = operator.post(
        "/api/v1/reveals/roster.csv", json={"reason": "年度核对"}, params={"township": "t1"}
    )
    assert export.status_code == 200, export.text
    assert ID_A in export.content.decode("utf-8-sig")
    book = auditor.post("/api/v1/reveals/roster.xlsx", json={"reason": "年度核对"})
    cells = [
        str(c)
        for row in openpyxl.load_workbook(io.BytesIO(book.content))["花名册"].iter_rows(values_only=True)
        for c in row
    ]
    assert ID_A in cells
    listed = auditor.get("/api/v1/reveals").json()
    assert listed["total"] == 4
    newest, *_, first = listed["items"]
    assert (first["member_id"], first["role"], first["reason"]) == (
        world.a.member_id,
        "auditor",
        "核对重复登记",
    )
    assert newest["scope"] == "roster.xlsx" and newest["member_id"] is None
    assert any(r["scope"] == "roster.csv?township=t1" for r in listed["items"])
    assert world.client(Role.ANALYST).get("/api/v1/reveals").status_code == 403
    with world.engine.connect() as conn:
        assert len(list(conn.execute(select(reveals)))) == 4


def test_one_id_number_under_two_random_ids_is_a_conflict(world: World) -> None:
    again = register_sealed(world.other, "张三", ID_A, "13900001111", home_branch="v1")
    # its key first, its registration after: the sweep indexes it once both are here
    with world.engine.begin() as conn:
        world.give(conn, again, "huadu")
    assert set(feed(world.ingestor, again.envelopes)) == {"archived"}
    with world.engine.begin() as conn:
        assert index_members(conn, world.store) == 1
        assert index_members(conn, world.store) == 0
    found = world.client(Role.ANALYST).get("/api/v1/conflicts", params={"kind": "same_id_number"}).json()
    assert found["total"] == 1
    (conflict,) = found["items"]
    assert sorted(conflict["detail"]["member_ids"]) == sorted([world.a.member_id, again.member_id])
    assert conflict["detail"]["nodes"] == ["dongguan", "huadu"]
    assert ID_A not in repr(found)
    everything = world.client(Role.OPERATOR).get("/api/v1/conflicts").json()
    assert any(c["kind"] == "same_id_number" for c in everything["items"])
    with world.engine.connect() as conn:
        live = digest(conn)
    with world.engine.begin() as conn:
        rebuild(conn)
    with world.engine.connect() as conn:
        assert digest(conn) == live  # the index is outside the projections' digest
        assert len(list(conn.execute(select(member_keys)))) == 2


def test_quarantine_preview_audit_export_and_database_hold_no_clear_personal(
    world: World, tmp_path: Path
) -> None:
    stranger = open_node(tmp_path, "hainan")  # not enrolled: its envelope is quarantined
    held = register_sealed(stranger, "赵六", id_number(7), "13700001234", home_branch="v1")
    assert feed(world.ingestor, held.envelopes) == ["quarantined"]
    preview = world.client(Role.OPERATOR).get("/api/v1/quarantine", params={"all": "true"})
    assert preview.status_code == 200 and preview.json()["total"] >= 1
    out = tmp_path / "audit.zip"
    with world.engine.connect() as conn:
        write_export(conn, Selection(), out, county_id="jx", county_key=Signer.generate())
    with zipfile.ZipFile(out) as zf:
        exported = b"".join(zf.read(n) for n in zf.namelist()).decode("utf-8", errors="replace")
    dumped = ""
    with world.engine.connect() as conn:
        for table in metadata.sorted_tables:
            dumped += repr(list(conn.execute(select(table))))
    for text in (preview.text, exported, dumped):
        for clear in ("张三", "李四", "赵六", ID_A, ID_B, id_number(7), "13812345678", "13700001234"):
            assert clear not in text
