"""The roster's workbook and CSV as an office uses them, over a county recorded at real nodes.

The county of `tests/browser/dashboard_county.py` (60 members in three townships, four
outstation nodes), on SQLite and PostgreSQL. The workbook is opened with openpyxl and read cell
by cell against the JSON the query API gives for the same filters (`as_of` included): Chinese
headers, statuses in words, organisations by name, times as China Standard Time datetime cells,
序号, the 合计 of the levels, the file named by scope and date, and the CSV the same rows.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl.utils import get_column_letter
from sqlalchemy import Engine, func, select, tuple_

from services.county.accounts.roles import Role
from services.county.api.app import create_app
from services.county.db import tables as t
from tests.accounts import CountyClient, bearer
from tests.browser.dashboard_county import REGISTERED_BY
from tests.county.helpers import TEST_KEYS
from tests.county.office_books import (  # noqa: F401 (county_engine: the fixture)
    EARLY,
    assert_no_none_text,
    china,
    county_engine,
    csv_rows,
    fetch,
    get_json,
    open_book,
    rows_of,
    shown,
    today_in_china,
)

HEADER = [
    "序号",
    "姓名",
    "身份证号",
    "手机号",
    "状态",
    "状态起始",
    "乡镇",
    "村（社区）党支部",
    "驻外党组织",
    "流入地",
    "流入地党组织",
    "职业",
    "外出时间",
    "学习账号",
    "登记节点",
    "登记时间",
    "成员编号",
]
STATUS_WORDS = {"out": "外出", "returned": "返乡", "contact_lost": "失联", "transferred_out": "转出"}


@pytest.fixture(scope="module")
def client(county_engine: Engine) -> TestClient:  # noqa: F811 (the fixture imported above)
    return CountyClient(create_app(county_engine, personal=TEST_KEYS))


def api_members(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every member the paged API gives for the filters, in its order."""
    items: list[dict[str, Any]] = []
    while True:
        page = get_json(client, "/api/v1/roster/members", limit=7, offset=len(items), **params)
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def expected_cells(member: dict[str, Any]) -> dict[str, Any]:
    """A member as the 花名册 sheet must show it (the test's own reading of the API's JSON)."""
    flowed = member["flowed_out_on"]
    return {
        "姓名": member["name"],
        "身份证号": member["id_number"],
        "手机号": member["phone"],
        "状态": STATUS_WORDS[member["status"]],
        "状态起始": china(member["status_since"]),
        "乡镇": member["township_name"],
        "村（社区）党支部": member["village_name"] if member["village"] else member["home_branch"],
        "驻外党组织": member["outstation_name"] if member["outstation"] else None,
        "流入地": member["host_location"],
        "流入地党组织": member["host_org_name"] if member["host_org"] else None,
        "职业": member["occupation"],
        "外出时间": datetime.combine(date.fromisoformat(flowed), datetime.min.time()) if flowed else None,
        "学习账号": "已开通" if member["study_account"] else "未开通",
        "登记时间": china(member["registered_at"]),
        "成员编号": member["member_id"],
    }


def scope_names(client: TestClient, **params: Any) -> list[str]:
    """The county's, township's or village's name(s), from the roster's own path."""
    path = get_json(client, "/api/v1/roster", **params)["path"]
    return [p["name"] for p in path[1:]] or [path[0]["name"]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"township": "t1"},
        {"village": "t2v3", "as_of": EARLY},
        {"status": "out", "as_of": EARLY},
        {"outstation": "huadu"},
    ],
)
def test_the_roster_workbook_holds_the_members_of_the_api_as_typed_cells(
    client: TestClient, params: dict[str, str]
) -> None:
    before = today_in_china()
    body, name, plain = fetch(client, "/api/v1/export/roster.xlsx", **params)
    days = {date.fromisoformat(params["as_of"])} if "as_of" in params else {before, today_in_china()}
    book = open_book(body)
    assert book.sheetnames == ["花名册", "分级统计"]
    assert_no_none_text(book)
    sheet = book["花名册"]
    rows = rows_of(sheet)
    members = api_members(client, **params)
    assert members, "the scenario has members at every level tested"
    title = rows[0][0]
    scope = scope_names(client, **params)
    assert title.startswith("流动党员花名册") and f"范围：{' '.join(scope)}" in title, title
    assert (f"截至 {params['as_of']}" if "as_of" in params else "实时数据") in title
    assert f"共 {len(members)} 人" in title and re.search(
        r"导出时间：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", title
    )
    assert rows[1] == HEADER
    assert len(rows) == 2 + len(members)
    for n, (row, member) in enumerate(zip(rows[2:], members, strict=True), start=1):
        cells = dict(zip(HEADER, row, strict=True))
        assert cells.pop("序号") == n
        registered_by = cells.pop("登记节点")
        assert registered_by, member["member_id"]
        assert cells == expected_cells(member)
    first = 3
    assert isinstance(sheet.cell(first, HEADER.index("状态起始") + 1).value, datetime)
    assert sheet.cell(first, HEADER.index("状态起始") + 1).number_format == "yyyy-mm-dd hh:mm"
    assert sheet.cell(first, HEADER.index("外出时间") + 1).number_format == "yyyy-mm-dd"
    assert sheet.cell(first, HEADER.index("登记时间") + 1).value.microsecond == 0
    assert sheet.freeze_panes == "C3"
    for i, header in enumerate(HEADER, start=1):  # as wide as the header at least (a CJK character: 2)
        assert sheet.column_dimensions[get_column_letter(i)].width >= 2 * len(header) - 1, header

    assert any(name == f"花名册_{'_'.join(scope)}_{day}.xlsx" for day in days), name
    assert re.fullmatch(r"roster_[a-z0-9-]+(_[a-z0-9-]+)*_\d{4}-\d\d-\d\d\.xlsx", plain), plain

    csv_body, csv_name, _ = fetch(client, "/api/v1/roster/members.csv", **params)
    assert any(csv_name == f"花名册_{'_'.join(scope)}_{day}.csv" for day in days), csv_name
    formats = [sheet.cell(first, i + 1).number_format for i in range(len(HEADER))]
    assert csv_rows(csv_body) == [HEADER] + [
        [shown(v, f) for v, f in zip(r, formats, strict=True)] for r in rows[2:]
    ]

    levels = rows_of(book["分级统计"])
    summary = get_json(client, "/api/v1/roster", **params)
    below = summary["children"] or [summary]
    assert levels[1][2:] == ["人数", "外出", "返乡", "失联", "转出"]
    assert [r[1] for r in levels[2:-1]] == [c["name"] for c in below]
    assert [r[0] for r in levels[2:-1]] == list(range(1, len(below) + 1))
    total = levels[-1]
    assert total[0] == "合计"
    assert total[2:] == [sum(r[i] for r in levels[2:-1]) for i in range(2, 7)]
    assert total[2] == summary["total"] == len(members)


def test_the_roster_workbook_as_of_is_the_roster_then(client: TestClient) -> None:
    def members(**params: str) -> int:
        return len(rows_of(open_book(fetch(client, "/api/v1/export/roster.xlsx", **params)[0])["花名册"])) - 2

    total_then = get_json(client, "/api/v1/roster", as_of=EARLY)["total"]
    assert members(as_of=EARLY) == total_then
    assert 0 < total_then < members() == 60
    assert members(as_of=REGISTERED_BY.isoformat()) == 60


def test_a_township_officer_exports_their_township_only(client: TestClient, county_engine: Engine) -> None:  # noqa: F811
    officer = TestClient(client.app, headers=bearer(county_engine, Role.TOWNSHIP_OFFICER, "t1"))
    t1 = get_json(client, "/api/v1/roster", township="t1")
    body, name, _ = fetch(officer, "/api/v1/export/roster.xlsx")
    rows = rows_of(open_book(body)["花名册"])
    mine = [m["member_id"] for m in api_members(client, township="t1")]
    assert [r[HEADER.index("成员编号")] for r in rows[2:]] == mine
    assert {r[HEADER.index("乡镇")] for r in rows[2:]} == {t1["name"]}
    assert f"范围：{t1['name']}" in rows[0][0] and name.startswith(f"花名册_{t1['name']}_")
    csv_body, _, _ = fetch(officer, "/api/v1/roster/members.csv")
    assert [r[HEADER.index("成员编号")] for r in csv_rows(csv_body)[1:]] == mine
    assert officer.get("/api/v1/export/roster.xlsx", params={"township": "t2"}).status_code == 403
    refused = officer.post("/api/v1/reveals/roster.xlsx", json={"reason": "年度核对"})
    assert refused.status_code == 403


def test_the_revealed_roster_is_the_same_sheet_in_full_and_recorded(client: TestClient) -> None:
    masked = rows_of(open_book(fetch(client, "/api/v1/export/roster.xlsx", township="t1")[0])["花名册"])
    before = get_json(client, "/api/v1/reveals")["total"]
    response = client.post(
        "/api/v1/reveals/roster.xlsx", params={"township": "t1"}, json={"reason": "年度核对"}
    )
    assert response.status_code == 200, response.text
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    full = rows_of(open_book(response.content)["花名册"])
    assert full[0][0].startswith("流动党员花名册（含完整身份信息）") and full[1] == HEADER
    at = HEADER.index("身份证号")
    assert all("*" in r[at] for r in masked[2:]) and not any("*" in r[at] for r in full[2:])
    assert all(len(r[at]) == 18 and r[at][:4] == m[at][:4] for r, m in zip(full[2:], masked[2:], strict=True))
    same = [i for i, h in enumerate(HEADER) if h not in ("身份证号", "手机号")]
    assert [[r[i] for i in same] for r in full[2:]] == [[r[i] for i in same] for r in masked[2:]]
    as_csv = client.post("/api/v1/reveals/roster.csv", params={"township": "t1"}, json={"reason": "年度核对"})
    assert as_csv.status_code == 200 and csv_rows(as_csv.content)[0] == HEADER
    assert [r[at] for r in csv_rows(as_csv.content)[1:]] == [r[at] for r in full[2:]]
    assert get_json(client, "/api/v1/reveals")["total"] == before + 2


def test_dashboard_and_its_assets_are_served_by_the_county(client: TestClient, county_engine: Engine) -> None:  # noqa: F811
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(not re.match(r"^(https?:)?//", r) for r in refs), refs
    for ref in refs:
        if ref.startswith("static/"):
            asset = client.get("/" + ref)
            assert asset.status_code == 200, ref
    for module in ("app", "api", "i18n", "roster", "alerts", "figures", "charts", "units", "nodes"):
        text = client.get(f"/static/{module}.js").text
        assert not re.search(r"""(import|from|fetch\()\s*["'`](https?:)?//""", text), module
    chart = client.get("/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and "Chart" in chart.text
    # node health carries each node's latest receipt (the dashboard's old /web/receipts is gone)
    assert client.get("/web/receipts").status_code == 404
    nodes = get_json(client, "/api/v1/nodes")["items"]
    with county_engine.connect() as conn:
        r = t.receipts.c
        latest = dict(conn.execute(select(r.node_id, func.max(r.seq)).group_by(r.node_id)).all())
        issued = dict(
            conn.execute(
                select(r.node_id, r.issued_at).where(tuple_(r.node_id, r.seq).in_(latest.items()))
            ).all()
        )
    assert {n["node_id"]: n["last_receipt"] for n in nodes} == {
        node_id: {"seq": seq, "issued_at": issued[node_id]} for node_id, seq in latest.items()
    }
    heads = {n["node_id"]: n["last_seq"] for n in nodes}
    assert latest == heads and len(heads) == 5
