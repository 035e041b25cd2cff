"""The outstation page's API on a real node: checking without appending, members, roster import."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.branch_node.service import NodeService
from tests.clerk import clerk_client
from tests.e2e.conftest import tongxin
from tests.samples import fund, id_number, mixed, registration
from tests.samples import xlsx as workbook

HEADER = ["姓名", "身份证号", "手机号", "所属支部", "流入地", "外出日期"]


@pytest.fixture
def client(node: NodeService) -> TestClient:
    return clerk_client(node)


def roster_row(i: int) -> list[Any]:
    return [f"成员{i}", id_number(i), f"139{i:08d}", f"village-{i % 3}", "广东东莞", "2019-03-01"]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    return workbook(rows, header)


def upload(client: TestClient, path: str, name: str, data: bytes) -> Any:
    return client.post(path, files={"file": (name, data)}, data={"type": "member.registered"})


def test_the_page_and_every_asset_it_names_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "流动党组织工作台" in page.text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(assets) >= 4
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing from a CDN


def test_every_element_the_script_fills_is_on_the_page(client: TestClient) -> None:
    """The status panel and the fork banner included: a renamed id would leave a field blank."""
    page = client.get("/").text
    script = client.get("/static/outstation.js").text
    named = set(re.findall(r'\$\("#([\w-]+)', script))
    assert {"st-confirmed", "st-unconfirmed", "st-waiting", "st-backlog", "fork-banner"} <= named
    assert named - set(re.findall(r'id="([\w-]+)"', page)) == set()


def test_check_names_every_bad_field_and_appends_nothing(client: TestClient, node: NodeService) -> None:
    item = registration(1)
    item["payload"]["personal"].update(id_number="431126196001010001", phone="12")
    item["payload"]["flowed_out_on"] = "2019-13-01"
    r = client.post("/api/v1/events/check", json=item)
    assert r.status_code == 200
    assert r.json()["ok"] is False
    assert [e["field"] for e in r.json()["errors"]] == [
        "payload.personal.id_number",
        "payload.personal.phone",
        "payload.flowed_out_on",
    ]
    assert client.post("/api/v1/events/check", json=registration(1)).json() == {"ok": True, "errors": []}
    assert node.log.last_seq() == 0


CASES: dict[str, Any] = {
    "a registration": lambda member: registration(1),
    "a fund": lambda member: fund(1),
    "a negative amount": lambda member: {**fund(1), "payload": {**fund(1)["payload"], "amount_fen": -5}},
    "a future time": lambda member: {**fund(1), "occurred_at": "2099-01-01T00:00:00Z"},
    "a stranger returns": lambda member: {"type": "member.returned", "payload": {"member_id": "0" * 32}},
    "a member returns": lambda member: {"type": "member.returned", "payload": {"member_id": member}},
    "the same person again": lambda member: registration(0),
    "an empty registration": lambda member: {"type": "member.registered", "payload": {}},
    "flowed out after the event": lambda member: {
        **registration(2),
        "payload": {**registration(2)["payload"], "flowed_out_on": "2030-01-01"},
    },
    "a donation of nothing": lambda member: {
        "type": "donation.made",
        "payload": {"org_id": "dongguan", "cause": "poverty"},
    },
}


@pytest.mark.parametrize("case", CASES)
def test_check_says_ok_exactly_when_recording_would_append(
    client: TestClient, node: NodeService, case: str
) -> None:
    client.post("/api/v1/events", json=registration(0))
    (member,) = client.get("/api/v1/members").json()["members"]
    item = CASES[case](member["member_id"])
    check = client.post("/api/v1/events/check", json=item).json()
    assert node.log.last_seq() == 1
    recorded = client.post("/api/v1/events", json=item)
    assert check["ok"] is (recorded.status_code == 201), (check, recorded.text)
    if not check["ok"]:
        assert recorded.json()["detail"][0]["field"] in [e["field"] for e in check["errors"]]


def test_members_are_listed_with_status_and_without_personal_data(client: TestClient) -> None:
    client.post("/api/v1/events/batch", json={"events": mixed(9)})
    members = client.get("/api/v1/members").json()["members"]
    assert [m["name"] for m in members] == ["成员0", "成员3", "成员6"]
    returned = {"type": "member.returned", "payload": {"member_id": members[1]["member_id"]}}
    assert client.post("/api/v1/events", json=returned).status_code == 201
    after = client.get("/api/v1/members")
    assert [m["status"] for m in after.json()["members"]] == ["out", "returned", "out"]
    assert after.json()["members"][1]["id_tail"] == id_number(3)[-4:]
    for i in (0, 3, 6):
        assert id_number(i) not in after.text and f"138{i:08d}" not in after.text


def test_xlsx_roster_with_a_bad_row_is_previewed_by_line_and_nothing_is_appended(
    client: TestClient, node: NodeService
) -> None:
    bad = roster_row(2)
    bad[1] = "431126196001010001"  # wrong check digit
    data = xlsx([roster_row(1), bad, roster_row(3), roster_row(1)])  # row 5 repeats row 2's person
    preview = upload(client, "/api/v1/import/preview", "名册.xlsx", data).json()
    assert preview["ok"] is False
    assert [r["line"] for r in preview["rows"]] == [2, 4]
    assert [(e["line"], e["field"]) for e in preview["errors"]] == [
        (3, "payload.personal.id_number"),
        (5, "payload.member_id"),
    ]
    shown = preview["rows"][0]["fields"]["personal"]
    assert shown["name"] == "成员1" and shown["id_number"] != id_number(1)
    r = upload(client, "/api/v1/import", "名册.xlsx", data)
    assert r.status_code == 422 and [e["line"] for e in r.json()["detail"]] == [3, 5]
    assert node.log.last_seq() == 0

    clean = xlsx([roster_row(i) for i in range(1, 6)])
    assert upload(client, "/api/v1/import/preview", "名册.xlsx", clean).json()["ok"] is True
    assert node.log.last_seq() == 0
    r = upload(client, "/api/v1/import", "名册.xlsx", clean)
    assert r.status_code == 201
    assert r.json() == {"count": 5, "first_seq": 1, "last_seq": 5, "skipped": 0, "warnings": 0}
    assert len(client.get("/api/v1/members").json()["members"]) == 5
    again = upload(client, "/api/v1/import/preview", "名册.xlsx", clean).json()
    assert [e["line"] for e in again["errors"]] == [2, 3, 4, 5, 6]  # all already registered


def test_csv_roster_from_chinese_excel_and_unreadable_files(client: TestClient, node: NodeService) -> None:
    text = ",".join(HEADER) + "\n" + "\n".join(",".join(map(str, roster_row(i))) for i in (1, 2))
    r = upload(client, "/api/v1/import/preview", "roster.csv", text.encode("gb18030"))
    assert r.json()["ok"] is True and r.json()["rows"][1]["fields"]["personal"]["name"] == "成员2"
    for name, data in [("roster.xlsx", b"not a workbook"), ("roster.pdf", b"%PDF")]:
        preview = upload(client, "/api/v1/import/preview", name, data).json()
        assert preview["ok"] is False and preview["errors"][0]["line"] == 0
        assert preview["errors"][0]["field"] == "file"
        assert upload(client, "/api/v1/import", name, data).status_code == 422
    empty = upload(client, "/api/v1/import", "roster.xlsx", xlsx([]))
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "file"
    assert node.log.last_seq() == 0


def last_seq(node_dir: Path) -> int:
    node = NodeService(node_dir)
    try:
        return node.log.last_seq()
    finally:
        node.close()


def test_cli_imports_xlsx_all_or_nothing(node_dir: Path, tmp_path: Path) -> None:
    bad_book = tmp_path / "bad.xlsx"
    bad_row = roster_row(2)
    bad_row[5] = "2019-02-30"
    bad_book.write_bytes(xlsx([roster_row(1), bad_row]))
    r = tongxin("node", "import", str(bad_book), "--type", "member.registered", "-d", str(node_dir))
    assert r.returncode == 2, r.stdout
    assert "line 3: payload.flowed_out_on" in r.stderr and "nothing was appended" in r.stderr
    assert last_seq(node_dir) == 0

    funds = tmp_path / "funds.xlsx"  # numbers and dates as Excel stores them, not as text
    header = ["type", "occurred_at", "org_id", "source", "amount_fen"]
    rows: list[list[Any]] = [
        ["fund.received", datetime(2026, 2, 1, 10, 0), "dongguan", "fiscal", 500000],
        ["fund.received", datetime(2026, 2, 2), "dongguan", "host_subsidy", 1234.0],
    ]
    funds.write_bytes(xlsx(rows, header))
    book = tmp_path / "roster.xlsx"
    book.write_bytes(xlsx([roster_row(1), roster_row(2)]))
    r = tongxin("node", "import", str(book), "--type", "member.registered", "-d", str(node_dir))
    assert r.returncode == 0, r.stderr
    assert "appended 2 event(s), seq 1..2" in r.stdout
    r = tongxin("node", "import", str(funds), "-d", str(node_dir))
    assert r.returncode == 0, r.stderr
    assert last_seq(node_dir) == 4
