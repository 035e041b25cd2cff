"""Members under a village the county's organisation tree does not hold read （未登记）, and the
dashboard says how to load the tree (`tongxin county load-orgs`); with every village known, it says
nothing. Headless Chromium against a real county app over a county recorded at real nodes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.browser.charts_county import build_county, office_events, registration
from tests.browser.conftest import Watch
from tests.browser.dashboard_server import serve
from tests.browser.test_dashboard import County, open_dashboard

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect


@pytest.fixture
def county(tmp_path: Path) -> Iterator[County]:
    """Member 1 of the village t1v1 (in the tree), member 2 of t9v9 (not in it)."""
    unknown = registration(2, date(2019, 11, 6))
    unknown["payload"]["home_branch"] = "t9v9"
    histories = {"county": office_events()[:4], "dongguan": [registration(1, date(2019, 11, 6)), unknown]}
    engine = build_county(tmp_path, histories)
    try:
        with serve(engine) as base:
            yield County(base, engine)
    finally:
        engine.dispose()


def test_unregistered_villages_come_with_how_to_load_the_tree(
    watched_page: tuple[Page, Watch], county: County
) -> None:
    page, watch = watched_page
    open_dashboard(page, county)
    rows = page.locator("#children tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator('#children tr[data-child-id="-"]')).to_contain_text("（未登记）")
    hint = page.locator("#tree-hint")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("tongxin county load-orgs")
    page.locator('#children tr[data-child-id="t1"]').click()  # a township whose villages are known
    expect(page.locator("#level")).to_have_attribute("data-id", "t1")
    expect(hint).to_be_hidden()
    watch.assert_clean()
