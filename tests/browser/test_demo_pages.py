"""Both pages on the running `tongxin demo`: an event a clerk records on an outstation's page
travels node → NATS → county and shows on the county dashboard.

With TONGXIN_SCREENSHOTS=1 the test also writes docs/dashboard.png, the dashboard over
the demo's county, for the README.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Watch
from tests.browser.outstation_form import fill_registration, sign_in
from tests.e2e.demo_process import DemoProcess
from tongxin.demo import people

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - dev extra missing; the browser fixture skips
    Page = Any  # type: ignore[misc,assignment]

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[2] / "docs"
TOWNSHIP, VILLAGE = "chengguan", "chengguan-shangtang"
REPORT = {  # tile → the report's figure as the tile writes it (money in 万元, from 1 亿元 on in 亿元)
    "outstations": "21",
    "activity_venues": "21",
    "teaching_sites": "7",
    "chambers": "14",
    "chamber_companies": "446",
    "chamber_persons": "559",
    "chamber_funds": "5,000",
    "chamber_projects": "16",
    "enterprises_founded": "1,200",
    "households_enriched": "46,000",
    "returnee_enterprises": "140",
    "returnee_amount": "137.5",  # 1,375,000 万元
    "job_notices": "20,000",
    "jobs_placed": "5,000",
    "donation_amount": "1,000",
    "legal_consulted": "70,000",
    "disputes": "800",
    "recovered": "4,000",
}
REPORT_UNITS = {
    "returnee_amount": "亿元",
    "chamber_funds": "万元",
    "households_enriched": "人",
    "legal_consulted": "人次",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    running = DemoProcess(
        tmp_path_factory.mktemp("demo") / "data",
        *("--members", "300", "--seed", "7", "--rate", "0", "--offline-every", "0"),
    )
    try:
        running.wait_ready()
        yield running
        assert running.stop() == 0
    finally:
        running.kill()


def county_sign_in(page: Page, demo: DemoProcess, username: str = "analyst") -> None:
    """Open the dashboard signed in with an account and password the demo printed (the sign-in
    form itself: tests/browser/test_county_sign_in.py)."""
    cookie = {"name": "tongxin_session", "value": demo.session(username), "url": demo.county}
    page.context.add_cookies([cookie])  # type: ignore[list-item]
    page.goto(demo.county + "/")
    page.wait_for_selector('[data-testid="who"]:has-text("分析员")')
    page.wait_for_selector('body[data-ready="1"]')


def members_named(demo: DemoProcess, name: str) -> list[dict[str, Any]]:
    page = demo.api(f"/api/v1/roster/members?village={VILLAGE}&limit=1000")
    return [m for m in page["items"] if m["name"] == name]


def test_a_registration_on_the_outstation_page_shows_on_the_dashboard(
    watched_page: tuple[Page, Watch], demo: DemoProcess
) -> None:
    page, watch = watched_page
    before = demo.api("/api/v1/roster")["total"]
    name = "测试同心"
    sign_in(page, demo.nodes["dongguan"] + "/", demo.clerk_passwords["dongguan"])  # as the demo printed it
    deadline = time.monotonic() + 30  # the demo loaded its tree; the county hands it to the node
    while page.locator("#node-name").inner_text() != "驻东莞市流动人口综合服务站党支部 · 中共湘源县委员会":
        assert time.monotonic() < deadline, page.locator("#node-name").inner_text()
        time.sleep(0.5)
        page.reload()
        page.wait_for_selector("#workspace:not([hidden])")
    fill_registration(page, name, people.id_number(27_999, random.Random(1)), home_branch=VILLAGE)
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录")

    deadline = time.monotonic() + 30
    while not members_named(demo, name):
        assert time.monotonic() < deadline, "the registration did not reach the county's roster"
        time.sleep(0.3)
    (member,) = members_named(demo, name)
    assert demo.api("/api/v1/roster")["total"] == before + 1

    county_sign_in(page, demo)
    expect(page.locator('[data-testid="level-total"] b')).to_have_text(f"{before + 1:,}")
    page.click(f'#children tr[data-child-id="{TOWNSHIP}"] a')
    page.wait_for_selector(f'#level[data-id="{TOWNSHIP}"]')
    page.click(f'#children tr[data-child-id="{VILLAGE}"] a')
    page.wait_for_selector(f'#level[data-id="{VILLAGE}"]')
    page.click(f'tr[data-member-id="{member["member_id"]}"]')
    page.wait_for_selector(f'#card[data-member-id="{member["member_id"]}"]')
    expect(page.locator('[data-testid="card-name"]')).to_have_text(name)
    expect(page.locator('[data-testid="card-status"]')).to_have_text("外出")
    watch.assert_clean()


def test_dashboard_over_the_demo_county_loads_cleanly(
    watched_page: tuple[Page, Watch], demo: DemoProcess
) -> None:
    page, watch = watched_page
    county_sign_in(page, demo)
    total = demo.api("/api/v1/roster")["total"]
    expect(page.locator('[data-testid="level-total"] b')).to_have_text(f"{total:,}")
    shown = {kpi: page.inner_text(f'[data-kpi="{kpi}"] b') for kpi in REPORT}
    assert shown == REPORT  # the report's headline figures, as the dashboard shows them
    units = {kpi: page.inner_text(f'[data-kpi="{kpi}"] span').rsplit(" (", 1)[1] for kpi in REPORT_UNITS}
    assert units == {kpi: f"{unit})" for kpi, unit in REPORT_UNITS.items()}  # in the report's units
    if os.environ.get("TONGXIN_SCREENSHOTS") == "1":
        page.wait_for_timeout(1000)  # let the charts finish their animation
        page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)
    watch.assert_clean()
