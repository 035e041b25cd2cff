"""The figures' workbook and CSV as an office uses them, over a county recorded at real nodes.

The county of `tests/browser/dashboard_county.py` (a year of funds, pioneer and education facts),
on SQLite and PostgreSQL. Each sheet is opened with openpyxl and checked against the JSON the
query API gives for the same filters: a row per month (every month of the period, zeros where
nothing occurred) or per group, money as numeric 元, counts as integers, the 合计 row the sum of
the rows and the API's total, the file named by scope and date, and the CSV the same rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from services.county.api.app import create_app
from tests.accounts import CountyClient
from tests.county.helpers import TEST_KEYS
from tests.county.office_books import (  # noqa: F401 (county_engine: the fixture)
    EARLY,
    assert_no_none_text,
    county_engine,
    csv_rows,
    fetch,
    get_json,
    open_book,
    rows_of,
    shown,
    today_in_china,
)

SHEETS = {"funds": "经费", "pioneer": "先锋作用", "education": "教育培训"}
SAID_ELSEWHERE = ("coverage.year", "study_accounts.roster")
"""Numbers of the API that are not a column: the year is in the headers, the roster counted once."""
SAMPLES = {
    "funds": {
        "财政拨（元）": "received.fiscal",
        "经费收入合计（元）": "received_total",
        "结余（元）": "balance",
        "收入（笔）": "received_events",
    },
    "pioneer": {
        "返乡创业投资（元）": "returnee.invested.amount_fen",
        "带富乡亲（人）": "enterprise.founded.households",
        "法律咨询（人次）": "legal.consulted.people",
        "调解纠纷（起）": "dispute.mediated.events",
        "捐款捐物·抗洪救灾（元）": "donation.made.by_cause.flood_relief.amount_fen",
        "商会筹集资金（元）": "chamber.funds_raised.amount_fen",
    },
    "education": {"培训（人次）": "training.attendances", "云党课（次）": "training.by_mode.cloud.sessions"},
}
"""Some columns by header, and the API number each must hold (the test's own reading)."""
MODE_WORDS = {
    "service_station": "服务站",
    "industry_chain": "产业链",
    "building_materials": "建材",
    "lychee": "荔枝",
}


@pytest.fixture(scope="module")
def client(county_engine: Engine) -> TestClient:  # noqa: F811 (the fixture imported above)
    return CountyClient(create_app(county_engine, personal=TEST_KEYS))


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """The test's own reading of a figure's JSON: dotted path → number."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(flat(inner, f"{prefix}.{key}" if prefix else key))
    return out


def in_yuan(figure: str, path: str, value: Any) -> Any:
    """An API number as the sheet holds it: fen as 元."""
    money = path.endswith("_fen") or (figure == "funds" and path not in ("received_events", "spendings"))
    return value / 100 if money and value is not None else value


def month_list(first: date, last: date) -> list[datetime]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(datetime(month.year, month.month, 1))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out


def numeric_columns(sheet: Any, width: int) -> list[int]:
    """Indexes (0-based) of the columns holding numbers, by the number format of the 合计 row."""
    last = sheet.max_row
    return [i for i in range(width) if sheet.cell(last, i + 1).number_format in ("#,##0", "#,##0.00")][1:]


def check_sheet(client: TestClient, book: Any, figure: str, params: dict[str, str]) -> list[list[Any]]:
    """What every figure sheet must be, grouped or not; gives the rows."""
    api = get_json(client, f"/api/v1/figures/{figure}", **params)
    sheet = book[SHEETS[figure]]
    rows = rows_of(sheet)
    assert rows[0][0].startswith(f"{SHEETS[figure]}统计") and "导出时间：" in rows[0][0]
    header, body, total = rows[1], rows[2:-1], rows[-1]
    assert header[0] == "序号" and total[0] == "合计"
    assert [r[0] for r in body] == list(range(1, len(body) + 1))
    numbers = {p: v for p, v in flat(api["total"]).items() if p not in SAID_ELSEWHERE}
    lead = 2 if "group_by" in params else 1
    assert len(header) - lead == len(numbers), "every number of the API is a column"
    assert sorted(round(float(v), 4) for v in total[lead:]) == sorted(
        round(float(in_yuan(figure, p, v)), 4) for p, v in numbers.items()
    )
    for i in numeric_columns(sheet, len(header)):  # 合计 is the sum of the rows
        yearly = header[i] in ("在册党员（人）", "已开通学习账号（人）") or header[i].endswith(
            "年参训党员（人）"
        )
        if params.get("group_by") == "month" and yearly:
            assert all(r[i] is None for r in body), header[i]  # a month has no yearly numbers
            continue
        assert all(isinstance(r[i], int | float) for r in body), header[i]
        if body:
            assert round(sum(r[i] for r in body), 2) == round(total[i], 2), header[i]
            money = header[i].endswith("（元）")
            assert sheet.cell(3, i + 1).number_format == ("#,##0.00" if money else "#,##0"), header[i]
        if not header[i].endswith("（元）"):
            assert all(isinstance(r[i], int) for r in [*body, total]), header[i]
    for label, path in SAMPLES[figure].items():
        i = header.index(label)
        assert total[i] == in_yuan(figure, path, flat(api["total"])[path]), label
    csv_body, _, _ = fetch(client, "/api/v1/export/figures.csv", figure=figure, **params)
    formats = [sheet.cell(sheet.max_row, i + 1).number_format for i in range(len(header))]
    formats[1] = sheet.cell(3, 2).number_format if body else formats[1]
    expected = [header] + [[shown(v, f) for v, f in zip(r, formats, strict=True)] for r in rows[2:]]
    assert csv_rows(csv_body) == expected
    return rows


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"as_of": EARLY},
        {"from": "2025-10-01", "to": "2027-01-31"},
        {"to": "2026-06-30", "mode": "lychee"},
    ],
)
def test_the_figures_workbook_has_every_month_as_a_row(client: TestClient, extra: dict[str, str]) -> None:
    params = {"group_by": "month", **extra}
    body, _, _ = fetch(client, "/api/v1/export/figures.xlsx", **params)
    book = open_book(body)
    assert book.sheetnames == ["经费", "先锋作用", "教育培训"]
    assert_no_none_text(book)
    for figure in SHEETS:
        rows = check_sheet(client, book, figure, params)
        api = get_json(client, f"/api/v1/figures/{figure}", **params)
        sheet = book[SHEETS[figure]]
        assert rows[1][1] == "月份" and sheet.freeze_panes == "C3"
        assert sheet.cell(3, 2).number_format == "yyyy-mm"
        keys = [g["key"] for g in api["groups"]]
        first = date.fromisoformat(extra["from"]) if "from" in extra else date.fromisoformat(keys[0] + "-01")
        last = date.fromisoformat(params.get("to", params.get("as_of", keys[-1] + "-01")))
        assert [r[1] for r in rows[2:-1]] == month_list(first, last), "every month, in order"
        groups = {g["key"]: flat(g) for g in api["groups"]}
        for row in rows[2:-1]:
            found = groups.get(f"{row[1]:%Y-%m}")
            for label, path in SAMPLES[figure].items():
                value = row[rows[1].index(label)]
                assert value == (in_yuan(figure, path, found[path]) if found else 0), (row[1], label)
        if "from" in extra:  # months before and after every fact, there as zeros
            assert any(f"{r[1]:%Y-%m}" not in groups for r in rows[2:-1])


@pytest.mark.parametrize(
    ("group_by", "column"), [("mode", "驻外模式"), ("township", "乡镇"), ("org", "组织")]
)
def test_the_figures_workbook_has_a_row_per_group(client: TestClient, group_by: str, column: str) -> None:
    params = {"group_by": group_by, "from": "2026-03-01", "to": "2026-09-30"}
    book = open_book(fetch(client, "/api/v1/export/figures.xlsx", **params)[0])
    for figure in SHEETS:
        rows = check_sheet(client, book, figure, params)
        api = get_json(client, f"/api/v1/figures/{figure}", **params)
        assert rows[1][1] == column
        names = [
            MODE_WORDS.get(g["key"], g["name"]) if group_by == "mode" else g["name"] for g in api["groups"]
        ]
        assert [r[1] for r in rows[2:-1]] == names
    education = rows_of(book["教育培训"])
    header, total = education[1], education[-1]
    rate = header.index("2026年培训覆盖率")
    assert total[rate] == get_json(client, "/api/v1/figures/education", **params)["total"]["coverage"]["rate"]
    assert book["教育培训"].cell(len(education), rate + 1).number_format == "0.00%"
    roster = header.index("在册党员（人）")
    assert sum(r[roster] for r in education[2:-1]) == total[roster] > 0


def test_without_group_by_a_figure_is_its_total_row(client: TestClient) -> None:
    book = open_book(fetch(client, "/api/v1/export/figures.xlsx", figure="funds")[0])
    assert book.sheetnames == ["经费"]
    rows = check_sheet(client, book, "funds", {})
    assert len(rows) == 3 and rows[1][0] == "序号" and rows[1][1] == "财政拨（元）"


def test_the_files_are_named_by_figure_scope_and_date(client: TestClient) -> None:
    county = get_json(client, "/api/v1/roster")["name"]
    t1 = get_json(client, "/api/v1/roster", township="t1")["name"]
    before = today_in_china()
    named = {
        fetch(client, "/api/v1/export/figures.xlsx", township="t1")[1:],
        fetch(client, "/api/v1/export/figures.csv", figure="funds")[1:],
    }
    days = {before, today_in_china()}
    assert any(
        named
        == {
            (f"统计报表_{t1}_{d}.xlsx", f"figures_t1_{d}.xlsx"),
            (f"经费_{county}_{d}.csv", f"funds_county_{d}.csv"),
        }
        for d in days
    ), named
    early = fetch(client, "/api/v1/export/figures.csv", figure="pioneer", as_of=EARLY, township="t2")[1:]
    t2 = get_json(client, "/api/v1/roster", township="t2")["name"]
    assert early == (f"先锋作用_{t2}_{EARLY}.csv", f"pioneer_t2_{EARLY}.csv")


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/v1/export/figures.csv", {"figure": "nope"}, 422, "figure"),
        ("/api/v1/export/figures.csv", {}, 422, "figure"),
        ("/api/v1/export/figures.xlsx", {"figure": "funds", "as_of": "yesterday"}, 422, "as_of"),
        ("/api/v1/export/figures.xlsx", {"from": "2026-05-01", "as_of": "2026-04-01"}, 422, "as_of"),
        ("/api/v1/export/figures.xlsx", {"group_by": "week"}, 422, "group_by"),
        ("/api/v1/export/figures.xlsx", {"year": "1999"}, 422, "year"),
        (
            "/api/v1/export/figures.xlsx",
            {"group_by": "month", "from": "1900-01-01", "to": "2199-12-31"},
            422,
            "from",
        ),
        ("/api/v1/export/figures.csv", {"figure": "funds", "township": "t9"}, 404, "township"),
        ("/api/v1/export/roster.xlsx", {"township": "t9"}, 404, "township"),
        ("/api/v1/export/roster.xlsx", {"township": "t1v1"}, 422, "township"),
        ("/api/v1/export/roster.xlsx", {"status": "gone"}, 422, "status"),
        ("/api/v1/export/roster.xlsx", {"as_of": "2026-13-01"}, 422, "as_of"),
    ],
)
def test_bad_parameters_are_refused_naming_them(
    client: TestClient, path: str, params: dict[str, str], status: int, field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["detail"][0]["field"] == field
