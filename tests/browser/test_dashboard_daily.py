"""The dashboard as an analyst uses it day to day, in headless Chromium against a real county.

The county of `dashboard_county.py` (60 members, three townships, four outstation nodes) served
by uvicorn (`test_dashboard.county`): alerts paged, a row opening the member's card, exported
(the downloaded .xlsx opened with openpyxl) and following the drill-down to a village; the
status tiles and the roster's filters (outstation, host location, status, name) narrowing the
counts, the member list and its export; a silent node flagged; the as-of banner. Every number
shown is checked against the query API of the same server for the same scope.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import update

from services.county.db import tables
from shared.envelope import format_time
from tests.browser import test_dashboard
from tests.browser.conftest import Watch
from tests.browser.test_dashboard import (
    EARLY,
    County,
    check_roster,
    choose_as_of,
    number,
    open_dashboard,
    ready,
    shown_level,
)
from tests.county.office_books import today_in_china

try:
    from playwright.sync_api import Page
except ImportError:  # pragma: no cover - dev extra missing; the browser fixture skips
    Page = Any  # type: ignore[misc,assignment]

county = test_dashboard.county
"""The dashboard's county, served (one per module)."""
NAME = "成员001"
"""Members 0010–0019 (and 0001 does not match): a few of the 60."""
KIND_ZH = {
    "no_orglife_90d": "90天无组织生活",
    "untrained_this_year": "本年度未参训",
    "contact_lost": "失联",
    "recruitment_awaiting_second_review": "发展党员待二次审核",
    "no_outstation": "未纳入驻外党组织",
}


def alert_ids(page: Page) -> list[str]:
    return [str(r.get_attribute("data-member-id")) for r in page.query_selector_all("#alert-items tbody tr")]


def alert_counts(page: Page) -> dict[str, int]:
    return {
        str(b.get_attribute("data-kind")): number(b.inner_text().split("\n")[0])
        for b in page.query_selector_all("#alert-counts button")
    }


def listed_members(page: Page) -> list[str]:
    rows = page.query_selector_all('[data-testid="member-list"] tbody tr')
    return [str(r.get_attribute("data-member-id")) for r in rows]


def hash_params(page: Page) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(page.evaluate("location.hash").lstrip("#")))


def wait_hash(page: Page, name: str, value: str | None) -> None:
    """The URL's hash holds `name=value` (or no `name`), and the page has drawn it."""
    page.wait_for_function(
        "([n, v]) => new URLSearchParams(location.hash.slice(1)).get(n) === v", arg=[name, value]
    )
    ready(page)


def drill(page: Page, *ids: str) -> None:
    for org_id in ids:
        page.click(f'#children tr[data-child-id="{org_id}"] a')
        page.wait_for_selector(f'#level[data-id="{org_id}"]')
        ready(page)


def test_alerts_page_and_a_row_opens_the_members_card(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    every = county.api("/api/v1/alerts", limit=1000)["items"]
    size = int(str(page.get_attribute("#alert-pager", "data-page-size")))
    assert alert_ids(page) == [a["member_id"] for a in every[:size]]
    page.click('[data-testid="alerts-next"]')
    page.wait_for_function(
        "id => document.querySelector('#alert-items tbody tr').dataset.memberId === id",
        arg=every[size]["member_id"],
    )
    ready(page)
    assert alert_ids(page) == [a["member_id"] for a in every[size : 2 * size]]
    chosen = next(a for a in every[size : 2 * size] if a["kind"] != "recruitment_awaiting_second_review")
    row = page.locator(f'#alert-items tr[data-member-id="{chosen["member_id"]}"]').first
    row.locator('[data-testid="alert-member"]').click()
    page.wait_for_selector(f'#card[data-member-id="{chosen["member_id"]}"]')
    ready(page)
    card = county.api(f"/api/v1/members/{chosen['member_id']}")
    assert page.inner_text('[data-testid="card-name"]') == card["name"] == chosen["name"]
    assert hash_params(page)["member"] == chosen["member_id"]
    shown = page.evaluate("() => document.getElementById('card').getBoundingClientRect().top")
    assert -1 < shown < 1000  # brought into view from the alerts below it
    mine = [
        a for a in county.api("/api/v1/alerts", limit=1000)["items"] if a["member_id"] == chosen["member_id"]
    ]
    assert len(page.query_selector_all('[data-testid="card-alerts"] li.alert')) == len(mine) > 0
    # the pager stays where it was: the card is opened, the alerts are not reloaded from page 1
    assert alert_ids(page) == [a["member_id"] for a in every[size : 2 * size]]
    watch.assert_clean()


def test_the_alerts_in_scope_download_as_a_workbook(
    watched_page: tuple[Page, Watch], county: County, tmp_path: Path
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    drill(page, "t1")
    found = county.api("/api/v1/alerts", township="t1", limit=1000)
    with page.expect_download() as download:
        page.click('[data-testid="alerts-xlsx"]')
    t1 = county.api("/api/v1/roster", township="t1")["name"]
    assert download.value.suggested_filename == f"双重管理预警_{t1}_{today_in_china()}.xlsx"
    saved = tmp_path / "alerts.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved)
    sheet = book["预警名单"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[1]
    assert header[:4] == ["序号", "预警类型", "姓名", "状态"] and "最近组织生活" in header
    at = {h: header.index(h) for h in header}
    assert [(r[at["预警类型"]], r[at["成员编号"]]) for r in rows[2:]] == [
        (KIND_ZH[a["kind"]], a["member_id"]) for a in found["items"]
    ]
    assert [r[0] for r in rows[2:]] == list(range(1, len(found["items"]) + 1))  # 序号, integers
    column = at["失联起始"] + 1
    lost = [c for (c,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column) if c.value is not None]
    assert lost and all(isinstance(c.value, datetime) and c.number_format == "yyyy-mm-dd hh:mm" for c in lost)
    counts = [list(r) for r in book["预警统计"].iter_rows(values_only=True)]
    assert counts[-1][0] == "合计" and counts[-1][2] == sum(found["counts"].values())
    with page.expect_download() as download:
        page.click('[data-testid="alerts-csv"]')
    saved = tmp_path / "alerts.csv"
    download.value.save_as(saved)
    text = saved.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff序号,预警类型,姓名")
    assert len(text.strip().splitlines()) == 1 + len(found["items"])
    watch.assert_clean()


def test_alerts_follow_the_drill_down_to_a_village(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    drill(page, "t2")
    township = county.api("/api/v1/alerts", township="t2", limit=1000)
    assert alert_counts(page) == township["counts"]
    with_alerts = {a["village"] for a in township["items"]}
    children = county.api("/api/v1/roster", township="t2")["children"]
    village = next(c for c in children if c["id"] in with_alerts)
    drill(page, village["id"])
    page.wait_for_selector(f'#alerts[data-village="{village["id"]}"]')
    found = county.api("/api/v1/alerts", township="t2", village=village["id"], limit=1000)
    assert alert_counts(page) == found["counts"] != township["counts"]
    assert alert_ids(page) == [a["member_id"] for a in found["items"][:20]] != []
    assert {a["village"] for a in found["items"]} == {village["id"]}
    assert village["name"] in page.inner_text('[data-testid="alerts-scope"]')
    href = str(page.get_attribute('[data-testid="alerts-xlsx"]', "href"))
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["village"] == [village["id"]]
    page.click(".crumb:not(.current) >> nth=-1")  # back up to the township
    page.wait_for_selector('#alerts[data-village=""][data-township="t2"]')
    ready(page)
    assert alert_counts(page) == township["counts"]
    watch.assert_clean()


def test_a_status_tile_lists_the_members_of_that_status(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    assert page.query_selector('[data-testid="member-list"]') is None  # the county level lists no one
    every = check_roster(page, county)
    page.click('#level [data-status="returned"]')
    wait_hash(page, "status", "returned")
    returned = county.members(status="returned")
    assert 0 < len(returned) < every["total"]
    assert page.get_attribute('[data-testid="member-count"]', "data-total") == str(len(returned))
    assert listed_members(page) == [m["member_id"] for m in returned]
    assert {
        r.inner_text() for r in page.query_selector_all('[data-testid="member-list"] td[data-col="status"]')
    } == {"返乡"}
    assert "chosen" in str(page.get_attribute('#level [data-status="returned"]', "class"))
    assert shown_level(page) == {"total": every["total"], **every["by_status"]}  # the tiles stay whole
    narrowed = county.api("/api/v1/roster", status="returned")
    rows = {
        str(r.get_attribute("data-child-id")): number(r.inner_text().split("\t")[1])
        for r in page.query_selector_all("#children tbody tr")
    }
    assert rows == {(c["id"] or "-"): c["total"] for c in narrowed["children"]}  # the children narrowed
    href = str(page.get_attribute('[data-testid="roster-xlsx"]', "href"))
    assert "status=returned" in href
    page.click('#level [data-status="returned"]')  # again: every status
    wait_hash(page, "status", None)
    assert page.query_selector('[data-testid="member-list"]') is None
    watch.assert_clean()


def test_the_roster_filters_narrow_the_list_and_its_export(
    watched_page: tuple[Page, Watch], county: County, tmp_path: Path
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    page.select_option('[data-testid="filter-outstation"]', "huadu")
    wait_hash(page, "outstation", "huadu")
    huadu = county.members(outstation="huadu")
    assert listed_members(page) == [m["member_id"] for m in huadu] != []
    check_roster(page, county, outstation="huadu")
    hosts = {m["host_location"] for m in county.members()}
    host = next(h for h in sorted(hosts) if h not in {m["host_location"] for m in huadu})
    page.select_option('[data-testid="filter-outstation"]', "")
    wait_hash(page, "outstation", None)
    page.fill('[data-testid="filter-host"]', host)
    page.press('[data-testid="filter-host"]', "Enter")
    wait_hash(page, "host_location", host)
    at_host = county.members(host_location=host)
    assert listed_members(page) == [m["member_id"] for m in at_host] != []
    check_roster(page, county, host_location=host)
    page.select_option('[data-testid="filter-status"]', "out")
    wait_hash(page, "status", "out")
    out_there = county.members(host_location=host, status="out")
    assert listed_members(page) == [m["member_id"] for m in out_there] != []
    assert len(out_there) < len(at_host)
    page.fill('[data-testid="filter-name"]', NAME)
    page.press('[data-testid="filter-name"]', "Enter")
    wait_hash(page, "name", NAME)
    named = county.members(host_location=host, status="out", name=NAME)
    assert listed_members(page) == [m["member_id"] for m in named] != []
    assert len(named) < len(out_there) and all(NAME in m["name"] for m in named)
    with page.expect_download() as download:
        page.click('[data-testid="roster-xlsx"]')
    saved = tmp_path / "roster.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved, read_only=True)["花名册"].iter_rows(values_only=True))
    ids = [r[list(rows[1]).index("成员编号")] for r in rows[2:]]
    assert ids == [m["member_id"] for m in named]
    page.reload()  # the filters are in the link
    ready(page)
    assert listed_members(page) == [m["member_id"] for m in named]
    assert page.input_value('[data-testid="filter-name"]') == NAME
    page.click('[data-testid="filter-clear"]')
    wait_hash(page, "status", None)
    assert {"name", "host_location", "status", "outstation"}.isdisjoint(hash_params(page))
    assert page.query_selector('[data-testid="member-list"]') is None
    watch.assert_clean()


def test_a_silent_node_is_flagged_with_its_silence(watched_page: tuple[Page, Watch], county: County) -> None:
    page, watch = watched_page
    now = datetime.now(UTC)
    heads = tables.node_heads.c
    with county.engine.begin() as conn:
        conn.execute(
            update(tables.node_heads)
            .where(heads.node_id == "huadu")
            .values(last_seen=format_time(now - timedelta(seconds=379)))
        )
        conn.execute(
            update(tables.node_heads).where(heads.node_id == "dongguan").values(last_seen=format_time(now))
        )
    silent = {n["node_id"]: n["silent_s"] for n in county.api("/api/v1/nodes")["items"]}
    assert silent["huadu"] >= 379 and silent["dongguan"] < 30
    open_dashboard(page, county)
    huadu = page.locator('#node-table tr[data-node-id="huadu"]')
    assert huadu.get_attribute("data-stale") == "1" and "warn" in str(huadu.get_attribute("class"))
    assert huadu.locator('[data-testid="stale"]').inner_text() == "静默 6 分钟"
    dongguan = page.locator('#node-table tr[data-node-id="dongguan"]')
    assert (
        dongguan.get_attribute("data-stale") is None
        and dongguan.locator('[data-testid="stale"]').count() == 0
    )
    page.click("#lang")
    ready(page)
    assert huadu.locator('[data-testid="stale"]').inner_text() == "silent 6 min"
    watch.assert_clean()


def test_a_past_date_shows_the_banner_and_its_button_goes_back_to_today(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    assert page.is_hidden('[data-testid="as-of-banner"]')
    live = check_roster(page, county)
    choose_as_of(page, EARLY)
    assert page.is_visible('[data-testid="as-of-banner"]')
    assert page.inner_text("#as-of-banner-text") == f"正在查看 {EARLY} 的数据（历史视图）"
    assert check_roster(page, county, as_of=EARLY)["total"] < live["total"]
    page.click('[data-testid="as-of-today"]')
    wait_hash(page, "as_of", None)
    assert page.is_hidden('[data-testid="as-of-banner"]') and page.input_value("#as-of") == ""
    check_roster(page, county)
    page.goto("about:blank")
    page.goto(f"{county.base}/#as_of={EARLY}&township=t1")  # a link to a past date says so too
    ready(page)
    assert page.inner_text("#as-of-banner-text") == f"正在查看 {EARLY} 的数据（历史视图）"
    watch.assert_clean()
