"""The county dashboard in headless Chromium against a real county app served by uvicorn.

The county (`dashboard_county.py`: 60 members in three townships, four outstation nodes and a
year of figures) is recorded at real branch nodes and ingested; the app is `create_app` on its
SQLite database, on a free port. Every number the page shows is checked against the query
API of the same server, for the same level and `as_of`.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from services.county.accounts.roles import Role
from shared.personal import ERASED
from tests.accounts import bearer, session_cookie
from tests.browser.conftest import Watch
from tests.browser.dashboard_county import ERASED_MEMBER, build_county, mid
from tests.browser.dashboard_server import serve

try:
    from playwright.sync_api import Page
except ImportError:  # pragma: no cover - dev extra missing; the browser fixture skips
    Page = Any  # type: ignore[misc,assignment]

EARLY = "2026-02-15"
STATUSES = ("out", "returned", "contact_lost", "transferred_out")
STATUS_ZH = {"out": "外出", "returned": "返乡", "contact_lost": "失联", "transferred_out": "转出"}
SOURCES = ("fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy")


@dataclass
class County:
    base: str
    engine: Engine

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        request = urllib.request.Request(f"{self.base}{path}?{query}", headers=bearer(self.engine))
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def sign_in(self, page: Page, role: Role = Role.ANALYST, township: str | None = None) -> None:
        """The page's browser context signed in as a test account of `role`."""
        page.context.add_cookies([session_cookie(self.engine, self.base, role, township)])  # type: ignore[list-item]

    def members(self, **params: Any) -> list[dict[str, Any]]:
        page = self.api("/api/v1/roster/members", limit=1000, **params)
        assert page["total"] == len(page["items"])
        items: list[dict[str, Any]] = page["items"]
        return items


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    engine = build_county(tmp_path_factory.mktemp("dashboard"))
    try:
        with serve(engine) as base:
            yield County(base, engine)
    finally:
        engine.dispose()


def ready(page: Page) -> None:
    page.wait_for_selector('body[data-ready="1"]')


def open_dashboard(page: Page, county: County) -> None:
    county.sign_in(page)
    page.goto(county.base + "/")
    ready(page)


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def key(org_id: str | None) -> str:
    return "-" if org_id is None else org_id


def shown_level(page: Page) -> dict[str, int]:
    counts = {s: number(page.inner_text(f'#level [data-status="{s}"] b')) for s in STATUSES}
    return {"total": number(page.inner_text('[data-testid="level-total"] b')), **counts}


def api_level(summary: dict[str, Any]) -> dict[str, int]:
    return {"total": summary["total"], **summary["by_status"]}


def shown_children(page: Page) -> list[tuple[str, dict[str, int]]]:
    rows = []
    for row in page.query_selector_all("#children tbody tr"):
        cells = {
            str(c.get_attribute("data-col")): number(c.inner_text())
            for c in row.query_selector_all("td[data-col]")
        }
        rows.append((str(row.get_attribute("data-child-id")), cells))
    return rows


def api_children(summary: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    return [(key(c["id"]), {"total": c["total"], **c["by_status"]}) for c in summary["children"]]


def check_roster(page: Page, county: County, **params: Any) -> dict[str, Any]:
    """The level's tiles and the child rows are the API's for the same level and as_of."""
    summary: dict[str, Any] = county.api("/api/v1/roster", **params)
    assert page.get_attribute("#level", "data-id") == key(summary["id"])
    assert shown_level(page) == api_level(summary)
    assert shown_children(page) == api_children(summary)
    return summary


def js_wan(fen: int) -> float:
    """api.js's fen → 10k yuan: Math.round(fen / 100) / 10000."""
    return math.floor(fen / 100 + 0.5) / 10000


def test_dashboard_loads_every_part_from_the_county_alone(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    open_dashboard(page, county)
    assert page.inner_text("h1") == "同心 · 县流动党员工作看板"
    summary = check_roster(page, county)
    assert summary["total"] == 60 and len(summary["children"]) == 3
    alerts = county.api("/api/v1/alerts")["counts"]
    shown = {
        b.get_attribute("data-kind"): number(b.inner_text().split("\n")[0])
        for b in page.query_selector_all("#alert-counts button")
    }
    assert shown == alerts and sum(alerts.values()) > 0
    funds = county.api("/api/v1/figures/funds", group_by="month")
    points = json.loads(str(page.get_attribute("#c-funds-month", "data-points")))
    assert points == [[js_wan(g["received"][s]) for g in funds["groups"]] for s in SOURCES]
    pioneer = county.api("/api/v1/figures/pioneer")["total"]
    assert number(page.inner_text('[data-kpi="jobs_placed"] b')) == pioneer["jobs.placed"]["people"] > 0
    for canvas in page.query_selector_all("canvas"):
        assert json.loads(str(canvas.get_attribute("data-points"))), canvas.get_attribute("id")
    nodes = county.api("/api/v1/nodes")["items"]
    assert all(n["last_receipt"] for n in nodes)  # the county signed receipts as it ingested
    rows = page.query_selector_all("#node-table tbody tr")
    assert [r.get_attribute("data-node-id") for r in rows] == [n["node_id"] for n in nodes]
    for row, node in zip(rows, nodes, strict=True):
        cells = {
            str(c.get_attribute("data-col")): c.inner_text() for c in row.query_selector_all("td[data-col]")
        }
        assert number(cells["last_seq"]) == node["last_seq"]
        assert number(cells["refused_claims"]) == node["refused_claims"]
        assert cells["receipt"].startswith(f"#{node['last_receipt']['seq']} ")
    assert requested and all(u.startswith(county.base + "/") for u in requested), requested
    assert any(u.endswith("/static/vendor/chart.umd.min.js") for u in requested)
    watch.assert_clean()


def test_drill_down_from_county_to_a_member_card(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    page.click('#children tr[data-child-id="t2"] a')
    page.wait_for_selector('#level[data-id="t2"]')
    ready(page)
    township = check_roster(page, county, township="t2")
    assert page.inner_text(".crumb.current") == township["name"] == "西乡镇党委"
    village = next(c for c in township["children"] if c["total"] > 0)
    page.click(f'#children tr[data-child-id="{village["id"]}"] a')
    page.wait_for_selector(f'#level[data-id="{village["id"]}"]')
    ready(page)
    check_roster(page, county, township="t2", village=village["id"])
    members = county.members(township="t2", village=village["id"])
    assert page.get_attribute('[data-testid="member-count"]', "data-total") == str(len(members))
    listed = page.query_selector_all('[data-testid="member-list"] tbody tr')
    assert [r.get_attribute("data-member-id") for r in listed] == [m["member_id"] for m in members[:50]]

    chosen = next(m for m in members if m["outstation"])
    page.click(f'tr[data-member-id="{chosen["member_id"]}"]')
    page.wait_for_selector(f'#card[data-member-id="{chosen["member_id"]}"]')
    ready(page)
    card = county.api(f"/api/v1/members/{chosen['member_id']}")
    assert page.inner_text('[data-testid="card-name"]') == card["name"]
    assert page.inner_text('[data-testid="card-status"]') == STATUS_ZH[card["status"]]
    assert (
        len(page.query_selector_all('[data-testid="co-managers"] tbody tr')) == len(card["co_managers"]) > 0
    )
    assert len(page.query_selector_all('[data-testid="history"] li')) == len(card["history"]) > 0
    alerts = county.api("/api/v1/alerts", township="t2", limit=1000)["items"]
    mine = [a for a in alerts if a["member_id"] == chosen["member_id"]]
    assert len(page.query_selector_all('[data-testid="card-alerts"] li.alert')) == len(mine)
    watch.assert_clean()


def choose_as_of(page: Page, day: str) -> None:
    page.fill("#as-of", day)
    page.wait_for_function("d => location.hash.includes('as_of=' + d)", arg=day)
    ready(page)


def test_as_of_changes_the_counts_as_the_api_says(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    live = check_roster(page, county)
    choose_as_of(page, EARLY)
    early = check_roster(page, county, as_of=EARLY)
    assert 0 < early["total"] < live["total"]
    alerts = county.api("/api/v1/alerts", as_of=EARLY)["counts"]
    shown = {
        b.get_attribute("data-kind"): number(b.inner_text().split("\n")[0])
        for b in page.query_selector_all("#alert-counts button")
    }
    assert shown == alerts
    funds = county.api("/api/v1/figures/funds", group_by="month", as_of=EARLY)
    assert [g["key"] for g in funds["groups"]] == ["2026-01", "2026-02"]
    points = json.loads(str(page.get_attribute("#c-funds-month", "data-points")))
    assert points == [[js_wan(g["received"][s]) for g in funds["groups"]] for s in SOURCES]
    page.click('#children tr[data-child-id="t1"] a')
    page.wait_for_selector('#level[data-id="t1"]')
    ready(page)
    check_roster(page, county, township="t1", as_of=EARLY)
    page.click("#as-of-clear")
    page.wait_for_function("() => !location.hash.includes('as_of')")
    ready(page)
    check_roster(page, county, township="t1")
    watch.assert_clean()


def test_excel_exports_hold_the_rows_the_api_gives(
    watched_page: tuple[Page, Watch], county: County, tmp_path: Path
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    choose_as_of(page, EARLY)
    page.click('#children tr[data-child-id="t1"] a')
    page.wait_for_selector('#level[data-id="t1"]')
    ready(page)
    with page.expect_download() as download:
        page.click('[data-testid="roster-xlsx"]')
    t1 = county.api("/api/v1/roster", township="t1")["name"]
    assert download.value.suggested_filename == f"花名册_{t1}_{EARLY}.xlsx"  # the RFC 5987 name
    saved = tmp_path / "roster.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved, read_only=True)["花名册"].iter_rows(values_only=True))
    members = county.members(township="t1", as_of=EARLY)
    header = list(rows[1])  # under the title row
    at = [header.index(c) for c in ("成员编号", "姓名", "身份证号", "状态")]
    words = {"out": "外出", "returned": "返乡", "contact_lost": "失联", "transferred_out": "转出"}
    assert [tuple(r[i] for i in at) for r in rows[2:]] == [
        (m["member_id"], m["name"], m["id_number"], words[m["status"]]) for m in members
    ]  # the ID numbers masked, as the API gives them
    assert 0 < len(members) < len(county.members(township="t1"))

    with page.expect_download() as download:
        page.click('[data-testid="figures-xlsx"]')
    assert download.value.suggested_filename.startswith("统计报表_")
    saved = tmp_path / "figures.xlsx"
    download.value.save_as(saved)
    funds_sheet = list(load_workbook(saved, read_only=True)["经费"].iter_rows(values_only=True))
    funds = county.api("/api/v1/figures/funds", group_by="month", as_of=EARLY)
    header = list(funds_sheet[1])
    assert header[:2] == ["序号", "月份"]
    received = header.index("经费收入合计（元）")
    assert [(f"{r[1]:%Y-%m}", r[received]) for r in funds_sheet[2:-1]] == [
        (g["key"], g["received_total"] / 100) for g in funds["groups"]
    ] and funds_sheet[-1][received] == funds["total"]["received_total"] / 100
    watch.assert_clean()


def test_node_health_refreshes_itself(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    first = page.get_attribute("#nodes", "data-as-of")
    assert first
    page.wait_for_function(
        "t => document.getElementById('nodes').dataset.asOf !== t", arg=first, timeout=20_000
    )
    assert len(page.query_selector_all("#node-table tbody tr")) == len(county.api("/api/v1/nodes")["items"])
    watch.assert_clean()


def test_labels_switch_to_english_and_back(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    page.click("#lang")
    ready(page)
    assert page.inner_text("h1") == "Tongxin · County mobile Party members"
    assert page.inner_text('[data-testid="level-total"] span') == "Total"
    assert page.inner_text('#level [data-status="contact_lost"] span') == "Contact lost"
    assert page.inner_text("#lang") == "中文"
    page.click("#lang")
    ready(page)
    assert page.inner_text('[data-testid="level-total"] span') == "合计"
    watch.assert_clean()


def test_a_link_to_a_level_and_date_opens_there(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    county.sign_in(page)
    page.goto(f"{county.base}/#as_of={EARLY}&township=t3")
    ready(page)
    assert page.input_value("#as-of") == EARLY
    check_roster(page, county, township="t3", as_of=EARLY)
    coverage = county.api("/api/v1/figures/education", as_of=EARLY)["total"]["coverage"]
    live = county.api("/api/v1/figures/education", year=coverage["year"])["total"]["coverage"]
    assert coverage["roster"] < live["roster"]  # the roster as it stood then, not the live one
    assert page.inner_text('[data-kpi="coverage"] span') == f"培训覆盖率 ({coverage['year']})"
    percent = math.floor(coverage["rate"] * 1000 + 0.5) / 10  # figures.js: Math.round(rate * 1000) / 10
    assert page.inner_text('[data-kpi="coverage"] b') == f"{percent:g}%"
    watch.assert_clean()


def test_an_erased_member_reads_as_erased_in_the_list_and_the_card(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    erased = mid(ERASED_MEMBER)
    (row,) = [m for m in county.members() if m["member_id"] == erased]
    assert row["name"] == ERASED and row["id_number"] is None and row["phone"] is None
    county.sign_in(page)
    page.goto(f"{county.base}/#township={row['township']}&village={row['village']}")
    ready(page)
    listed = page.locator(f'[data-testid="member-list"] tr[data-member-id="{erased}"]')
    assert ERASED in listed.inner_text()
    listed.click()
    page.wait_for_selector(f'#card[data-member-id="{erased}"]')
    ready(page)
    assert page.inner_text('[data-testid="card-name"]') == ERASED
    assert f"成员{ERASED_MEMBER:04d}" not in page.content()
    watch.assert_clean()


def test_alerts_page_forward_and_back_with_the_full_count(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    size = int(str(page.get_attribute("#alert-pager", "data-page-size")))
    every = county.api("/api/v1/alerts", limit=1000)
    total = every["total"]
    assert total == len(every["items"]) > size  # the county has more alerts than one page

    def names() -> list[str]:
        return [r.inner_text().split("\t")[0] for r in page.query_selector_all("#alert-items tbody tr")]

    def showing(a: int, b: int) -> None:
        page.wait_for_function(
            "t => document.querySelector('[data-testid=alerts-range]').textContent === t",
            arg=f"第 {a}–{b} 条，共 {total:,} 条",
        )

    showing(1, size)
    first = names()
    assert len(first) == size and page.is_disabled('[data-testid="alerts-prev"]')
    page.click('[data-testid="alerts-next"]')
    showing(size + 1, min(2 * size, total))
    second = names()
    expected = [a["name"] or "–" for a in every["items"][size : 2 * size]]
    assert second == expected and second != first
    assert page.is_enabled('[data-testid="alerts-prev"]')
    page.click('[data-testid="alerts-prev"]')
    showing(1, size)
    assert names() == first
    page.click("#lang")
    ready(page)
    assert page.inner_text('[data-testid="alerts-next"]') == "Next"
    assert page.inner_text('[data-testid="alerts-range"]') == f"1–{size} of {total:,}"
    watch.assert_clean()


def test_numeric_headers_sit_over_their_right_aligned_numbers(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    for table in ("#node-table", "#children"):
        aligned = page.evaluate(
            """sel => {
                const cell = document.querySelector(`${sel} tbody td.n`);
                const th = document.querySelector(sel).tHead.rows[0].cells[cell.cellIndex];
                const first = document.querySelector(`${sel} tbody td:not(.n)`);
                const firstTh = document.querySelector(sel).tHead.rows[0].cells[first.cellIndex];
                const align = (e) => getComputedStyle(e).textAlign;
                return [align(th), align(cell), align(firstTh), align(first)];
            }""",
            table,
        )
        assert aligned == ["right", "right", "left", "left"], table
    watch.assert_clean()
