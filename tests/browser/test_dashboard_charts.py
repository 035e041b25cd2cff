"""The dashboard's charts, units, translated codes and dates, in headless Chromium.

The county (`charts_county.py`) has figures only in 2019-12 and 2020-03, no funds, a returnee
investment of 137.5 亿元, a member registered twice and whose details were updated. What the
page shows is read from the page (Chart.js's own chart objects included) and checked against the
query API and the exports' headers (`figure_labels`, the county report's units).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.county.exports.figure_labels import column
from tests.browser.charts_county import DOUBLE, INVESTED_FEN, MONTHS, build_charts_county
from tests.browser.conftest import Watch
from tests.browser.dashboard_county import mid
from tests.browser.dashboard_server import serve
from tests.browser.test_dashboard import County, ready

try:
    from playwright.sync_api import Page
except ImportError:  # pragma: no cover - dev extra missing; the browser fixture skips
    Page = Any  # type: ignore[misc,assignment]

CHINA = ZoneInfo("Asia/Shanghai")
EVERY_MONTH = ["2019-12", "2020-01", "2020-02", "2020-03"]
DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?)?")
ONE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?")
CHART = """id => {
    const c = window.Chart.getChart(document.getElementById(id));
    if (!c) return null;
    const scales = Object.fromEntries(Object.entries(c.options.scales).filter(([k]) => k !== "x")
        .map(([k, s]) => [k, s.title.text]));
    return { labels: c.data.labels, scales,
             datasets: c.data.datasets.map(d => ({ label: d.label, data: d.data, axis: d.yAxisID })) };
}"""


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    engine = build_charts_county(tmp_path_factory.mktemp("charts"))
    try:
        with serve(engine) as base:
            yield County(base, engine)
    finally:
        engine.dispose()


def open_at(page: Page, county: County, fragment: str = "", lang: str = "zh") -> None:
    county.sign_in(page)
    page.add_init_script(f"localStorage.setItem('tongxin.lang', '{lang}')")
    page.goto(f"{county.base}/#{fragment}")
    ready(page)


def card_of(member: str) -> str:
    return f"township=t1&village=t1v1&member={member}"


def chart(page: Page, canvas: str) -> Any:
    return page.evaluate(CHART, canvas)


def report_unit(figure: str, path: str) -> str:
    """The unit the exports (and the county report) give a number: `名称（单位）`."""
    found = re.search(r"（(.+)）$", column(figure, path).header)
    assert found, path
    return found.group(1)


def china_time(iso: str) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def test_people_are_headed_by_name_organisations_by_title(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_at(page, county, card_of(mid(DOUBLE)))
    page.wait_for_selector(f'#card[data-member-id="{mid(DOUBLE)}"]')
    assert page.inner_text('[data-testid="member-list"] thead th:first-child') == "姓名"
    assert page.inner_text("#alert-items thead th:first-child") == "姓名"
    assert county.api("/api/v1/alerts")["total"] > 0  # the column heads real rows
    assert page.inner_text('[data-testid="co-managers"] thead th:first-child') == "名称"  # organisations
    page.click("#lang")
    ready(page)
    assert page.inner_text('[data-testid="member-list"] thead th:first-child') == "Name"
    assert page.inner_text("#alert-items thead th:first-child") == "Name"
    watch.assert_clean()


def test_the_card_and_node_health_show_words_not_codes(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_at(page, county, card_of(mid(DOUBLE)))
    page.wait_for_selector(f'#card[data-member-id="{mid(DOUBLE)}"]')
    card = county.api(f"/api/v1/members/{mid(DOUBLE)}")
    assert {e["type"] for e in card["history"]} == {"member.registered", "member.details_updated"}
    assert [c["kind"] for c in card["conflicts"]] == ["double_registration"]
    text = page.inner_text("#card")
    assert re.search(r"[A-Za-z_]", text) is None, text  # no code, no node id: Chinese words only
    assert "信息变更" in page.inner_text('[data-testid="history"]')
    assert "重复登记" in page.inner_text('[data-testid="card-conflicts"]')
    names = {e["node_name"] for e in card["history"]}
    assert names == {"江县县委", "驻东莞服务站党支部"}
    assert all(n in page.inner_text('[data-testid="history"]') for n in names)

    nodes = county.api("/api/v1/nodes")["items"]
    shown = [c.inner_text() for c in page.query_selector_all('#node-table td[data-col="name"]')]
    assert shown == [n["name"] for n in nodes] == ["江县县委", "驻东莞服务站党支部"]
    assert re.search(r"[A-Za-z_]", page.inner_text("#nodes")) is None
    watch.assert_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_date_and_one_date_time_format_on_the_card(
    watched_page: tuple[Page, Watch], county: County, lang: str
) -> None:
    page, watch = watched_page
    member = mid(DOUBLE)  # with a conflict and events of both nodes
    open_at(page, county, card_of(member), lang)
    page.wait_for_selector(f'#card[data-member-id="{member}"]')
    card = county.api(f"/api/v1/members/{member}")
    text = page.inner_text("#card")
    dates = DATE_LIKE.findall(text)
    assert dates and all(ONE_FORMAT.fullmatch(d) for d in dates), dates
    times = [t.inner_text() for t in page.query_selector_all('[data-testid="history"] time')]
    assert times == [china_time(e["occurred_at"]) for e in card["history"]]
    assert card["flowed_out_on"] in dates
    assert china_time(card["activity"]["last_orglife_at"]) in dates  # 2020-03-10 10:00, China time
    if lang == "en":
        assert re.search(r"[无（）]", text) is None, text  # no Chinese word or bracket left over
        assert re.search(r"[无]", page.inner_text("#figures")) is None
    watch.assert_clean()


def test_every_month_is_on_the_time_axis_a_month_without_data_as_zero(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_at(page, county)
    pioneer = county.api("/api/v1/figures/pioneer", group_by="month")["groups"]
    education = county.api("/api/v1/figures/education", group_by="month")["groups"]
    assert [g["key"] for g in pioneer] == [g["key"] for g in education] == list(MONTHS)
    drawn = chart(page, "c-pioneer-month")
    assert drawn["labels"] == EVERY_MONTH
    jobs = next(d for d in drawn["datasets"] if d["label"].startswith("就业安置"))
    by_month = {g["key"]: g["jobs.placed"]["people"] for g in pioneer}
    assert jobs["data"] == [by_month.get(m, 0) for m in EVERY_MONTH]
    assert jobs["data"][1:3] == [0, 0] and all(jobs["data"][i] > 0 for i in (0, 3))
    taught = chart(page, "c-education-month")
    assert taught["labels"] == EVERY_MONTH
    sessions = next(d for d in taught["datasets"] if d["axis"] == "y2")
    assert sessions["data"] == [1, 0, 0, 1]
    watch.assert_clean()


def test_each_axis_has_one_unit_the_report_s(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_at(page, county)
    taught = chart(page, "c-education-month")
    assert taught["scales"] == {
        "y": report_unit("education", "training.by_mode.cloud.attendances"),  # 人次
        "y2": report_unit("education", "orglife.sessions"),  # 次
    }
    assert {d["axis"] for d in taught["datasets"] if "组织生活" in d["label"]} == {"y2"}
    assert {d["axis"] for d in taught["datasets"] if "组织生活" not in d["label"]} == {"y"}
    pioneer = chart(page, "c-pioneer-month")
    paths = {
        "就业安置": "jobs.placed.people",
        "法律咨询": "legal.consulted.people",
        "服务群众": "service.provided.people",
        "带富乡亲": "enterprise.founded.households",
        "返乡创业带动就业": "returnee.invested.jobs",
    }
    for d in pioneer["datasets"]:
        (path,) = [p for name, p in paths.items() if d["label"].startswith(name)]
        assert pioneer["scales"][d["axis"]] == report_unit("pioneer", path), d["label"]
    assert len(set(pioneer["scales"].values())) == len(pioneer["scales"]) == 2  # 人 and 人次 apart
    # the tiles (the dashboard's table of figures) in the report's units too
    assert page.inner_text('[data-kpi="legal_consulted"] span').endswith(
        f"({report_unit('pioneer', 'legal.consulted.people')})"
    )
    assert page.inner_text('[data-kpi="households_enriched"] span') == "带富乡亲 (人)"
    assert report_unit("pioneer", "enterprise.founded.households") == "人"
    page.click("#lang")
    ready(page)
    assert chart(page, "c-pioneer-month")["scales"] == {"y": "people", "y2": "attendances"}
    watch.assert_clean()


def test_an_empty_chart_says_no_data(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_at(page, county)
    assert county.api("/api/v1/figures/funds", group_by="month")["groups"] == []
    for canvas in ("c-funds-month", "c-funds-mode"):
        box = page.locator(f"#{canvas}").locator("..")
        assert box.get_by_test_id("no-data").inner_text() == "无数据"
        assert chart(page, canvas) is None and page.is_hidden(f"#{canvas}")
    drawn = page.locator("#c-pioneer-month").locator("..")
    assert drawn.get_by_test_id("no-data").count() == 0 and chart(page, "c-pioneer-month")
    rates = chart(page, "c-education-mode")  # a coverage of 0% is a rate, not an absence of data
    assert rates["scales"] == {"y": "%"} and all(v == 0 for d in rates["datasets"] for v in d["data"])
    page.click("#lang")
    ready(page)
    assert page.locator("#c-funds-month").locator("..").get_by_test_id("no-data").inner_text() == "No data"
    watch.assert_clean()


def test_a_large_sum_is_in_yi_yuan(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_at(page, county)
    invested = county.api("/api/v1/figures/pioneer")["total"]["returnee.invested"]["amount_fen"]
    assert invested == INVESTED_FEN  # 1,375,000 万元
    assert page.inner_text('[data-kpi="returnee_amount"] b') == f"{invested / 10**10:g}" == "137.5"
    assert page.inner_text('[data-kpi="returnee_amount"] span') == "返乡投资 (亿元)"
    assert page.inner_text('[data-kpi="received_total"] span') == "经费收入合计 (万元)"  # 0: stays 万元
    page.click("#lang")
    ready(page)
    assert page.inner_text('[data-kpi="returnee_amount"] span') == "Returnee investment (100M yuan)"
    watch.assert_clean()
