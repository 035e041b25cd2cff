"""Signing in to the county dashboard in Chromium (issue 14): the Chinese sign-in page, back to the
page asked for, sign-out, and what each role's dashboard shows (a township officer their own)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from services.county.accounts.roles import Role
from services.county.accounts.store import Accounts
from tests.browser.conftest import Watch
from tests.browser.test_dashboard import County, check_roster, ready
from tests.browser.test_dashboard import county as _county

if TYPE_CHECKING:  # only in annotations: the browser fixture skips without playwright
    from playwright.sync_api import Page

county = _county
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def accounts(county: County) -> Iterator[County]:
    store = Accounts(county.engine)
    store.add("zhang", Role.ANALYST, PASSWORD)
    store.add("wang", Role.TOWNSHIP_OFFICER, PASSWORD, township="t2")
    store.add("zhao", Role.AUDITOR, PASSWORD)
    yield county


def sign_in_form(page: Page, username: str, password: str) -> None:
    page.fill('[data-testid="username"]', username)
    page.fill('[data-testid="password"]', password)
    page.click('[data-testid="submit"]')


def test_signing_in_through_the_chinese_page_and_out_again(
    watched_page: tuple[Page, Watch], accounts: County
) -> None:
    page, watch = watched_page
    page.goto(f"{accounts.base}/#township=t1")
    page.wait_for_url("**/login?next=*")
    assert page.inner_text("h2") == "登录"
    sign_in_form(page, "zhang", "not the password")
    page.wait_for_selector('[data-testid="sign-in-error"]:not([hidden])')
    assert page.inner_text('[data-testid="sign-in-error"]') == "用户名或密码不对。"
    assert not [c for c in page.context.cookies() if c["name"] == "tongxin_session"]
    sign_in_form(page, "zhang", PASSWORD)
    page.wait_for_url("**/#township=t1")
    ready(page)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "tongxin_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the page's scripts cannot read the session
    assert page.inner_text('[data-testid="who"]') == "zhang（分析员）"
    assert page.get_attribute("#level", "data-id") == "t1"
    assert page.is_visible("#nodes")
    page.click('[data-testid="sign-out"]')
    page.wait_for_url("**/login?next=*")
    page.goto(f"{accounts.base}/")
    page.wait_for_url("**/login?next=*")  # the session ended at the county
    # the only refusals: who-am-I before sign-in and after sign-out, and the wrong password; and
    # reads still in flight when sign-out navigated away (a slow machine), cut short
    refused = [f for f in watch.failed if f.endswith(": 401")]
    cut = [f for f in watch.failed if f.startswith("GET ") and f.endswith("net::ERR_ABORTED")]
    assert refused and sorted(refused + cut) == sorted(watch.failed), watch.failed
    assert not watch.console or all("401" in c for c in watch.console), watch.console


def test_a_township_officer_sees_their_township_and_no_node_health(
    watched_page: tuple[Page, Watch], accounts: County
) -> None:
    page, watch = watched_page
    page.goto(f"{accounts.base}/login")
    sign_in_form(page, "wang", PASSWORD)
    page.wait_for_selector('[data-testid="who"]:has-text("wang")')
    ready(page)
    assert page.inner_text('[data-testid="who"]') == "wang（乡镇干部 · t2）"
    assert page.get_attribute("#level", "data-id") == "t2"
    check_roster(page, accounts, township="t2")
    assert not page.is_visible("#nodes")
    watch.assert_clean()


def test_an_auditor_is_told_the_dashboard_is_not_theirs(
    watched_page: tuple[Page, Watch], accounts: County
) -> None:
    page, watch = watched_page
    page.goto(f"{accounts.base}/login")
    sign_in_form(page, "zhao", PASSWORD)
    page.wait_for_selector('[data-testid="none-for-role"]:not([hidden])')
    assert not page.is_visible("#roster") and not page.is_visible("#nodes")
    watch.assert_clean()
