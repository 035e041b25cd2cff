"""Signing in on the outstation page in headless Chromium against a real node, and what a page of
another origin can do with the clerk's browser: nothing. The clerk signs in through the Chinese form,
records an event and signs out; the one-time code of a new node leads to setting a password; a page
served by a second local HTTP server (another port: another origin, the same site, so the cookie
would travel) tries every way `fetch` offers to post an event, and none is appended."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from services.branch_node.clerk import Clerk
from services.branch_node.service import NodeService
from tests.browser.conftest import Watch
from tests.browser.outstation_form import fill_registration, sign_in
from tests.browser.outstation_server import serve_node
from tests.clerk import PASSWORD
from tests.conftest import make_node_dir
from tests.samples import fund, id_number

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

ATTACK = """<!doctype html>
<html><head><meta charset="utf-8"><title>not the node</title></head><body>
<script>
const node = %(node)r;
const event = %(event)s;
const tries = [
  ["json", {method: "POST", credentials: "include", headers: {"content-type": "application/json"},
            body: JSON.stringify(event)}],
  ["text", {method: "POST", mode: "no-cors", credentials: "include", headers: {"content-type": "text/plain"},
            body: JSON.stringify(event)}],
  ["form", {method: "POST", mode: "no-cors", credentials: "include", body: (() => {
      const f = new FormData();
      f.append("file", new Blob([JSON.stringify(event) + "\\n"]), "events.jsonl");
      f.append("type", "fund.received");
      return f; })()}],
  ["read", {method: "GET", credentials: "include"}],
];
window.results = {};
(async () => {
  for (const [name, options] of tries) {
    const path = {form: "/api/v1/import", read: "/api/v1/events?after=0"}[name] || "/api/v1/events";
    try {
      const r = await fetch(node + path, options);
      window.results[name] = r.type === "opaque" ? "opaque" : `${r.status} ${await r.text()}`;
    } catch (e) { window.results[name] = `blocked: ${e}`; }
  }
  window.done = true;
})();
</script></body></html>
"""


@pytest.fixture
def outstation(tmp_path: Path) -> Iterator[tuple[str, NodeService]]:
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        with serve_node(node) as url:
            yield url, node
    finally:
        node.close()


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A second local HTTP server (a plain one, the attacker's), serving a directory."""
    root = tmp_path / "elsewhere"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def test_the_clerk_signs_in_records_an_event_and_signs_out(
    watched_page: tuple[Page, Watch], outstation: tuple[str, NodeService]
) -> None:
    page, watch = watched_page
    url, node = outstation
    page.goto(url)
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#workspace")).to_be_hidden()
    expect(page.locator("label[for=signin-password]")).to_have_text("密码")
    expect(page.locator("#signin-submit")).to_have_text("登录")
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    expect(page.locator("#node-name")).to_contain_text("dongguan")
    cookie = next(c for c in page.context.cookies() if c["name"] == "tongxin_clerk")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the page's script cannot read it

    fill_registration(page, "李四", id_number(3))
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「登记流动党员」，序号 1")
    assert node.log.last_seq() == 1

    second = page.context.new_page()  # another tab of this browser: signed in already
    second.goto(url)
    expect(second.locator("#st-recorded")).to_have_text("1")
    expect(second.locator("#signin")).to_be_hidden()
    expect(second.locator("#signout")).to_have_text("退出登录")
    second.click("#signout")
    expect(second.locator("#signin")).to_be_visible()
    expect(second.locator("#signin-error")).to_have_text("已退出登录。")
    expect(second.locator("#workspace")).to_be_hidden()
    # the first tab learns it at its next status poll (every 3 s): sign in again
    expect(page.locator("#signin-error")).to_have_text("登录已失效，请重新登录。", timeout=10_000)
    expect(page.locator("#workspace")).to_be_hidden()
    assert watch.failed == [f"GET {url}/api/v1/status: 401"]
    assert [m for m in watch.console if "status of 401" not in m] == []


def test_a_wrong_password_is_said_in_chinese(
    watched_page: tuple[Page, Watch], outstation: tuple[str, NodeService]
) -> None:
    page, watch = watched_page
    url, _ = outstation
    page.goto(url)
    page.fill("#signin-password", "这不是密码但足够长")
    page.click("#signin-submit")
    expect(page.locator("#signin-error")).to_have_text("密码不对，请重新输入。")
    expect(page.locator("#workspace")).to_be_hidden()
    assert watch.failed == [f"POST {url}/api/v1/session: 401"]


def test_the_one_time_code_then_a_new_password(watched_page: tuple[Page, Watch], tmp_path: Path) -> None:
    page, watch = watched_page
    node = NodeService(make_node_dir(tmp_path / "node"))
    try:
        code = Clerk(node.dir.path).new_signin_token()  # as `tongxin node init` makes and prints it
        with serve_node(node, password=None) as url:
            page.goto(url)
            expect(page.locator("#signin-token-field")).to_be_visible()
            expect(page.locator("#signin-password-field")).to_be_hidden()
            expect(page.locator("label[for=signin-token]")).to_have_text("一次性登录码")
            page.fill("#signin-token", code)
            page.click("#signin-submit")
            expect(page.locator("#setpw")).to_be_visible()
            page.fill("#setpw-password", "我们自己选的新登录密码")
            page.fill("#setpw-again", "我们自己选的新登录密码")
            page.click("#setpw-submit")
            expect(page.locator("#node-name")).to_contain_text("dongguan")
            page.click("#signout")
            expect(page.locator("#signin-password-field")).to_be_visible()  # from now on: the password
            page.fill("#signin-password", "我们自己选的新登录密码")
            page.click("#signin-submit")
            expect(page.locator("#workspace")).to_be_visible()
    finally:
        node.close()
    watch.assert_clean()


def test_a_page_on_another_origin_cannot_post_an_event(
    watched_page: tuple[Page, Watch], outstation: tuple[str, NodeService], other_origin: tuple[Path, str]
) -> None:
    page, watch = watched_page
    url, node = outstation
    sign_in(page, url)  # the clerk is signed in, in this very browser
    fill_registration(page, "王五", id_number(5))
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 1")
    root, elsewhere = other_origin
    (root / "attack.html").write_text(ATTACK % {"node": url, "event": json.dumps(fund(1))}, encoding="utf-8")
    attacker = page.context.new_page()
    attacker.goto(f"{elsewhere}/attack.html")
    attacker.wait_for_function("window.done === true", timeout=20_000)
    results: dict[str, Any] = attacker.evaluate("window.results")
    assert results["json"].startswith("blocked"), results  # no CORS: the preflight fails
    assert results["read"].startswith("blocked"), results  # and nothing is read
    assert results["text"] == "opaque" and results["form"] == "opaque", results  # sent, refused (403)
    assert node.log.last_seq() == 1, "a page on another origin appended an event"
    watch.assert_clean()  # the clerk's page saw nothing of it
