"""The outstation page in headless Chromium against a real node: every bad field of a form is
flagged at once, each next to its field, and nothing is recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.branch_node.service import NodeService
from tests.browser.conftest import Watch
from tests.browser.outstation_form import fill_registration, sign_in
from tests.browser.outstation_server import fresh_node

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect


@pytest.fixture
def outstation(tmp_path: Path) -> Iterator[tuple[str, NodeService]]:
    with fresh_node(tmp_path / "node") as served:
        yield served


def error_for(page: Page, path: str) -> Any:
    return page.locator(f'[data-error-for="{path}"]')


SIX = {
    "personal.name": "必填",
    "personal.id_number": "身份证号校验位不对，请核对",
    "personal.phone": "手机号应为以 1 开头的 11 位数字",
    "host_location": "最多 200 个字",
    "occupation": "最多 200 个字",
    "occurred_at": "发生时间不能在将来",
}


def test_a_registration_with_six_bad_fields_shows_all_six_at_once_each_by_its_field(
    watched_page: tuple[Page, Watch], outstation: tuple[str, NodeService]
) -> None:
    page, watch = watched_page
    url, node = outstation
    sign_in(page, url)
    fill_registration(page, "", "431126196001010001")  # no name; a wrong check digit
    page.fill("#f-personal-phone", "12")
    page.fill("#f-host_location", "东" * 201)
    page.fill("#f-occupation", "工" * 201)
    page.fill("#f-occurred_at", "2099-01-01T09:00")
    # while typing, the fields the clerk touched are flagged, each with its own reason
    expect(error_for(page, "personal.phone")).to_have_text(SIX["personal.phone"])
    expect(error_for(page, "occurred_at")).to_have_text(SIX["occurred_at"])
    expect(error_for(page, "personal.name")).to_be_empty()  # not touched yet
    page.click("#submit")
    expect(page.locator("#form-result")).to_have_text("未记录：请更正标红的内容。")
    for path, message in SIX.items():  # one submit: every one, none left for a next round
        expect(error_for(page, path)).to_have_text(message)
        expect(page.locator(f'.field[data-path="{path}"]')).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.locator(".field.invalid")).to_have_count(len(SIX))
    expect(error_for(page, "home_branch")).to_be_empty()  # the good fields stay unflagged
    expect(error_for(page, "flowed_out_on")).to_be_empty()
    expect(page.locator("#form-error")).to_be_empty()  # nothing the form could not place
    assert node.log.last_seq() == 0

    page.fill("#f-personal-phone", "13800000000")  # one fixed: its flag goes, the rest stay
    expect(error_for(page, "personal.phone")).to_be_empty()
    expect(page.locator(".field.invalid")).to_have_count(len(SIX) - 1)
    watch.assert_clean()
