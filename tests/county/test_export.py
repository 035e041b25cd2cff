"""Exports of the roster and the figures (.xlsx and CSV) over a county recorded at real nodes.

The county of `tests/browser/dashboard_county.py` (60 members in three townships, four
outstation nodes, a year of figures), on SQLite and PostgreSQL. Every export is checked row for
row against the JSON the query API gives for the same filters, `as_of` included.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, tuple_

from services.county.api.app import create_app
from services.county.db import tables as t
from services.county.db.engine import make_engine, migrate
from services.county.queries.roster import CSV_COLUMNS
from tests.accounts import CountyClient
from tests.browser.dashboard_county import REGISTERED_BY, fill_county
from tests.conftest import postgres_database
from tests.county.helpers import TEST_KEYS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EARLY = "2026-02-15"
"""About half the members are registered by then, and only the first figures have occurred."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def county_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One filled county per database for the whole module (the tests only read it)."""
    root = tmp_path_factory.mktemp("export")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{root / 'county.db'}"
        else:
            url = stack.enter_context(postgres_database())
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        fill_county(engine, root)
        yield engine


@pytest.fixture(scope="module")
def client(county_engine: Engine) -> TestClient:
    return CountyClient(create_app(county_engine, personal=TEST_KEYS))


def get_json(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def workbook(client: TestClient, path: str, **params: Any) -> dict[str, list[list[Any]]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def csv_rows(client: TestClient, path: str, **params: Any) -> list[list[str]]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def api_members(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every member the paged API gives for the filters, in its order."""
    items: list[dict[str, Any]] = []
    while True:
        page = get_json(client, "/api/v1/roster/members", limit=7, offset=len(items), **params)
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def as_cells(member: dict[str, Any]) -> list[Any]:
    """A member as the export writes it: the CSV's columns, empty text as None."""
    cells = [member[c] for c in CSV_COLUMNS]
    return [
        ("true" if v else "false") if c == "study_account" else v
        for c, v in zip(CSV_COLUMNS, cells, strict=True)
    ]


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
def test_roster_workbook_has_the_rows_of_the_api_and_of_the_csv(
    client: TestClient, params: dict[str, str]
) -> None:
    sheets = workbook(client, "/api/v1/export/roster.xlsx", **params)
    members = api_members(client, **params)
    assert members, "the scenario has members at every level tested"
    assert sheets["roster"][0] == list(CSV_COLUMNS)
    assert sheets["roster"][1:] == [as_cells(m) for m in members]
    from_csv = csv_rows(client, "/api/v1/roster/members.csv", **params)
    assert [[c or None for c in row] for row in from_csv] == [
        [None if c is None else str(c) for c in row] for row in sheets["roster"]
    ]
    summary = get_json(client, "/api/v1/roster", **params)
    levels = sheets["levels"]
    assert levels[0] == ["level", "id", "name", "total", "out", "returned", "contact_lost", "transferred_out"]
    assert levels[1][:4] == [summary["level"], summary["id"], summary["name"], summary["total"]]
    assert [row[2:4] for row in levels[2:]] == [[c["name"], c["total"]] for c in summary["children"]]
    assert sum(levels[1][4:]) == summary["total"] == len(members)


def test_roster_workbook_as_of_is_the_roster_then(client: TestClient) -> None:
    live = workbook(client, "/api/v1/export/roster.xlsx")["roster"]
    early = workbook(client, "/api/v1/export/roster.xlsx", as_of=EARLY)["roster"]
    total_then = get_json(client, "/api/v1/roster", as_of=EARLY)["total"]
    assert len(early) - 1 == total_then
    assert 0 < total_then < len(live) - 1 == 60
    assert (
        len(workbook(client, "/api/v1/export/roster.xlsx", as_of=REGISTERED_BY.isoformat())["roster"]) == 61
    )


def number(cell: Any) -> Any:
    """A cell as a comparable value: numbers as floats (Excel gives 1.0 back as 1), empty as None."""
    if cell is None or cell == "":
        return None
    try:
        return float(cell)
    except ValueError:
        return cell


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """The test's own reading of a figure's JSON: dotted path → number."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(flat(inner, f"{prefix}.{key}" if prefix else key))
    return out


@pytest.mark.parametrize(
    ("group_by", "extra"),
    [
        ("month", {}),
        ("mode", {"as_of": "2026-06-30"}),
        ("township", {"from": "2026-03-01", "to": "2026-09-30"}),
        (None, {"mode": "lychee"}),
    ],
)
def test_figures_workbook_has_every_number_of_the_api(
    client: TestClient, group_by: str | None, extra: dict[str, str]
) -> None:
    params = {**({"group_by": group_by} if group_by else {}), **extra}
    sheets = workbook(client, "/api/v1/export/figures.xlsx", **params)
    assert list(sheets) == ["funds", "pioneer", "education", "filters"]
    for figure in ("funds", "pioneer", "education"):
        api = get_json(client, f"/api/v1/figures/{figure}", **params)
        rows = sheets[figure]
        assert rows[0] == ["metric", "total", *(g["name"] for g in api["groups"])]
        total = flat(api["total"])
        groups = [flat({k: v for k, v in g.items() if k not in ("key", "name")}) for g in api["groups"]]
        assert [r[0] for r in rows[1:]] == list(total)
        for row in rows[1:]:
            assert row[1:] == [total[row[0]], *(g.get(row[0]) for g in groups)], (figure, row[0])
        from_csv = csv_rows(client, "/api/v1/export/figures.csv", figure=figure, **params)
        assert [[number(c) for c in row] for row in from_csv] == [[number(c) for c in row] for row in rows]
    filters = dict((r[0], r[1]) for r in sheets["filters"][1:])
    assert filters["group_by"] == group_by and filters["figures"] == "funds,pioneer,education"


def test_figures_as_of_keeps_what_occurred_by_then(client: TestClient) -> None:
    early = workbook(client, "/api/v1/export/figures.xlsx", as_of=EARLY, group_by="month", figure="funds")
    assert list(early) == ["funds", "filters"]
    header = early["funds"][0]
    assert header == ["metric", "total", "2026-01", "2026-02"]
    api = get_json(client, "/api/v1/figures/funds", to=EARLY)
    received = {r[0]: r[1] for r in early["funds"][1:]}["received_total"]
    assert received == api["total"]["received_total"]
    assert received < get_json(client, "/api/v1/figures/funds")["total"]["received_total"]


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/v1/export/figures.csv", {"figure": "nope"}, 422, "figure"),
        ("/api/v1/export/figures.csv", {}, 422, "figure"),
        ("/api/v1/export/figures.xlsx", {"figure": "funds", "as_of": "yesterday"}, 422, "as_of"),
        ("/api/v1/export/figures.xlsx", {"from": "2026-05-01", "as_of": "2026-04-01"}, 422, "as_of"),
        ("/api/v1/export/figures.xlsx", {"group_by": "week"}, 422, "group_by"),
        ("/api/v1/export/figures.xlsx", {"year": "1999"}, 422, "year"),
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


def test_dashboard_and_its_assets_are_served_by_the_county(client: TestClient, county_engine: Engine) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(not re.match(r"^(https?:)?//", r) for r in refs), refs
    for ref in refs:
        if ref.startswith("static/"):
            asset = client.get("/" + ref)
            assert asset.status_code == 200, ref
    for module in ("app", "api", "i18n", "roster", "alerts", "figures", "nodes"):
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
