"""The alerts a level of the drill-down holds, exported, and the roster's name search.

The county of `tests/browser/dashboard_county.py` (60 members in three townships), on SQLite:
`GET /api/v1/alerts` with `village`, `GET /api/v1/export/alerts.xlsx` and `alerts.csv` (read with
openpyxl and the csv module against the JSON of the same query), who may export which township's
alerts, and `name` on the roster's members and exports. Every refusal names its parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.accounts.roles import Role
from services.county.api.app import create_app
from tests.accounts import CountyClient, bearer
from tests.county.helpers import TEST_KEYS
from tests.county.office_books import (
    EARLY,
    china,
    csv_rows,
    fetch,
    filled_county,
    get_json,
    open_book,
    rows_of,
    today_in_china,
)

KIND_WORDS = {
    "no_orglife_90d": "90天无组织生活",
    "untrained_this_year": "本年度未参训",
    "contact_lost": "失联",
    "recruitment_awaiting_second_review": "发展党员待二次审核",
    "no_outstation": "未纳入驻外党组织",
}
STATUS_WORDS = {"out": "外出", "returned": "返乡", "contact_lost": "失联", "transferred_out": "转出"}
HEADER = ["序号", "预警类型", "姓名", "状态", "乡镇", "村（社区）党支部", "驻外党组织", "最近组织生活"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with filled_county("sqlite", Path(tmp_path_factory.mktemp("alerts"))) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(engine: Engine) -> TestClient:
    return CountyClient(create_app(engine, personal=TEST_KEYS))


def as_role(client: TestClient, role: Role, township: str | None = None) -> TestClient:
    return TestClient(client.app, headers=bearer(client.engine, role, township))  # type: ignore[attr-defined]


def every_alert(client: TestClient, **params: Any) -> dict[str, Any]:
    found: dict[str, Any] = get_json(client, "/api/v1/alerts", limit=1000, **params)
    assert found["total"] == len(found["items"])
    return found


def refused(client: TestClient, path: str, status: int, field: str, **params: Any) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert field in [d["field"] for d in response.json()["detail"]], response.text


def test_alerts_of_a_village_are_the_township_alerts_of_its_members(client: TestClient) -> None:
    township = every_alert(client, township="t1")
    villages = {a["village"] for a in township["items"] if a["village"]}
    assert len(villages) > 1  # narrowing to one village leaves some out
    for village in sorted(villages):
        found = every_alert(client, township="t1", village=village)
        expected = [a for a in township["items"] if a["village"] == village]
        assert found["items"] == expected and expected
        counts = Counter(a["kind"] for a in expected)
        assert found["counts"] == {k: counts.get(k, 0) for k in KIND_WORDS}
    assert (
        every_alert(client, village=sorted(villages)[0])["items"]
        == every_alert(client, township="t1", village=sorted(villages)[0])["items"]
    )  # the village alone places it in its township
    assert every_alert(client, township="t2", village=sorted(villages)[0])["items"] == []


def test_the_alerts_workbook_holds_the_alerts_the_api_gives(client: TestClient) -> None:
    found = every_alert(client, township="t1")
    body, name, plain = fetch(client, "/api/v1/export/alerts.xlsx", township="t1")
    t1 = get_json(client, "/api/v1/roster", township="t1")["name"]
    today = today_in_china()
    assert (name, plain) == (f"双重管理预警_{t1}_{today}.xlsx", f"alerts_t1_{today}.xlsx")
    book = open_book(body)
    assert book.sheetnames == ["预警名单", "预警统计"]
    sheet = book["预警名单"]
    rows = rows_of(sheet)
    assert t1 in rows[0][0] and "实时数据" in rows[0][0] and f"共 {len(found['items'])} 条" in rows[0][0]
    header = rows[1]
    assert header[: len(HEADER)] == HEADER and header[-1] == "成员编号"
    at = {h: header.index(h) for h in header}
    assert len(rows) - 2 == len(found["items"]) > 0
    for n, (row, alert) in enumerate(zip(rows[2:], found["items"], strict=True), start=1):
        assert row[at["序号"]] == n and isinstance(row[at["序号"]], int)
        assert row[at["预警类型"]] == KIND_WORDS[alert["kind"]]
        assert (row[at["姓名"]], row[at["成员编号"]]) == (alert["name"], alert["member_id"])
        assert row[at["状态"]] == (STATUS_WORDS[alert["status"]] if alert["status"] else None)
        assert row[at["乡镇"]] == alert["township_name"]
        assert row[at["最近组织生活"]] == china(alert["detail"].get("last_orglife_at"))
        assert row[at["失联起始"]] == china(alert["detail"].get("since"))
    dated = [c for c in sheet.iter_rows(min_row=3) for c in c if isinstance(c.value, datetime)]
    assert dated and all(c.number_format == "yyyy-mm-dd hh:mm" for c in dated)  # date cells, not text
    counts = rows_of(book["预警统计"])
    assert counts[1] == ["序号", "预警类型", "条数"]
    assert {r[1]: r[2] for r in counts[2:-1]} == {KIND_WORDS[k]: n for k, n in found["counts"].items()}
    assert counts[-1][0] == "合计" and counts[-1][2] == sum(found["counts"].values())
    assert all(isinstance(r[2], int) for r in counts[2:])


def test_the_alerts_workbook_as_of_a_date_is_named_and_filled_by_it(client: TestClient) -> None:
    early = every_alert(client, township="t1", as_of=EARLY)
    body, name, _ = fetch(client, "/api/v1/export/alerts.xlsx", township="t1", as_of=EARLY)
    t1 = get_json(client, "/api/v1/roster", township="t1")["name"]
    assert name == f"双重管理预警_{t1}_{EARLY}.xlsx"
    rows = rows_of(open_book(body)["预警名单"])
    assert f"截至 {EARLY}" in rows[0][0]
    assert [(r[1], r[-1]) for r in rows[2:]] == [
        (KIND_WORDS[a["kind"]], a["member_id"]) for a in early["items"]
    ]
    assert len(early["items"]) != len(every_alert(client, township="t1")["items"])


def test_the_alerts_csv_is_the_sheet_without_its_title(client: TestClient) -> None:
    village = "t1v1"
    body, _, _ = fetch(client, "/api/v1/export/alerts.xlsx", village=village, kind="untrained_this_year")
    book_rows = rows_of(open_book(body)["预警名单"])
    text, name, _ = fetch(client, "/api/v1/export/alerts.csv", village=village, kind="untrained_this_year")
    assert name.startswith("双重管理预警_") and name.endswith(f"_{today_in_china()}.csv")
    lines = csv_rows(text)
    assert lines[0] == book_rows[1]
    found = every_alert(client, village=village, kind="untrained_this_year")
    assert [line[-1] for line in lines[1:]] == [a["member_id"] for a in found["items"]] != []
    assert {line[1] for line in lines[1:]} == {"本年度未参训"}


def test_a_township_officer_exports_their_township_only(client: TestClient) -> None:
    officer = as_role(client, Role.TOWNSHIP_OFFICER, "t1")
    for path in ("/api/v1/alerts", "/api/v1/export/alerts.xlsx", "/api/v1/export/alerts.csv"):
        refused(officer, path, 403, "township", township="t2")
        refused(officer, path, 403, "village", village="t2v1")
        assert officer.get(path, params={"village": "t1v2"}).status_code == 200
    own = every_alert(officer)
    assert own["items"] and {a["township"] for a in own["items"]} == {"t1"}
    body, name, _ = fetch(officer, "/api/v1/export/alerts.xlsx")
    t1 = get_json(client, "/api/v1/roster", township="t1")["name"]
    assert name.startswith(f"双重管理预警_{t1}_")
    ids = [r[-1] for r in rows_of(open_book(body)["预警名单"])[2:]]
    assert ids == [a["member_id"] for a in own["items"]]
    for role in (Role.AUDITOR, Role.OPERATOR):
        response = as_role(client, role).get("/api/v1/export/alerts.xlsx")
        assert response.status_code == 403, (role, response.text)


def test_bad_parameters_are_refused_naming_them(client: TestClient) -> None:
    for path in ("/api/v1/alerts", "/api/v1/export/alerts.xlsx", "/api/v1/export/alerts.csv"):
        refused(client, path, 422, "village", village="not a slug!")
        refused(client, path, 422, "kind", kind="everything")
        refused(client, path, 422, "as_of", as_of="yesterday")
        refused(client, path, 404, "village", village="nowhere")
    for path in ("/api/v1/roster/members", "/api/v1/roster/members.csv", "/api/v1/export/roster.xlsx"):
        refused(client, path, 422, "name", name="")
        refused(client, path, 422, "name", name="长" * 51)
        refused(client, path, 422, "name", name="a\x01b")


def test_a_name_search_narrows_the_members_and_their_exports(client: TestClient) -> None:
    every = get_json(client, "/api/v1/roster/members", limit=1000)["items"]
    wanted = "成员001"
    expected = [m for m in every if wanted in m["name"]]
    assert 1 < len(expected) < len(every)
    found = get_json(client, "/api/v1/roster/members", name=wanted, limit=5)
    assert found["total"] == len(expected) and found["items"] == expected[:5]
    outs = [m for m in expected if m["status"] == "out"]
    narrowed = get_json(client, "/api/v1/roster/members", name=wanted, status="out", limit=1000)
    assert narrowed["items"] == outs and 0 < len(outs) < len(expected)
    body, _, _ = fetch(client, "/api/v1/export/roster.xlsx", name=wanted)
    sheet = rows_of(open_book(body)["花名册"])
    assert f"姓名含：{wanted}" in sheet[0][0]
    assert [r[-1] for r in sheet[2:]] == [m["member_id"] for m in expected]
    lines = csv_rows(fetch(client, "/api/v1/roster/members.csv", name=wanted)[0])
    assert [line[-1] for line in lines[1:]] == [m["member_id"] for m in expected]
