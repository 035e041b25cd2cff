"""A correction end to end in headless Chromium: a clerk records a member, a fund with a mistyped
amount and a return on the outstation page of a real node; its forwarder carries them over a real
nats-server (with users) to the county's consumer (SQLite); on the page's 最近记录 the clerk
corrects the amount (更正: the fund form, prefilled) and voids the return (作废, with a reason).
The county's fund figure changes, the member is out again, and the member's card on the county
dashboard shows the original return marked 已作废 with the reason, and the void itself."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bench.loop import Loop
from services.branch_node.forwarder import Backoff, Forwarder
from services.branch_node.service import NodeService
from services.county.db.engine import make_engine, migrate
from services.county.ingest.consumer import Consumer
from services.county.ingest.processor import Ingestor
from services.county.keys import CountySigning
from shared.signing import Signer
from tests.accounts import bearer, session_cookie
from tests.browser.conftest import Watch
from tests.browser.dashboard_server import serve
from tests.browser.outstation_form import fill_registration, sign_in
from tests.browser.outstation_server import serve_node
from tests.browser.test_outstation import off_the_loop
from tests.conftest import make_node_dir
from tests.county.helpers import ORG_TREE, enrol_nodes, feed, record
from tests.samples import id_number
from tongxin.natsd import EmbeddedNats, ensure_stream

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

COUNTY = Signer.generate()


@dataclass
class Stage:
    node_url: str
    county_url: str
    engine: Engine
    node: NodeService

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params)
        request = urllib.request.Request(f"{self.county_url}{path}?{query}", headers=bearer(self.engine))
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def funds(self) -> int:
        return int(self.api("/api/v1/figures/funds")["total"]["received_total"])

    def until(self, what: Callable[[], Any], expected: Any, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (found := what()) != expected:
            assert time.monotonic() < deadline, f"the county shows {found!r}, not {expected!r}"
            time.sleep(0.1)


def org_items() -> list[dict[str, Any]]:
    return [
        {
            "type": "org.registered",
            "occurred_at": "2026-01-02T09:00:00+08:00",
            "payload": {"org_id": o, "name": n, "kind": k, **({"parent_id": p} if p else {}), **x},
        }
        for o, n, k, p, x in ORG_TREE
    ]


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    engine = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    migrate(engine)
    loops: list[tuple[Loop, tuple[Any, ...]]] = []
    nodes: list[NodeService] = []
    try:
        off_the_loop(ensure_stream(server.url, identity=server.identity("operator")))
        office = NodeService(make_node_dir(tmp_path / "county", "county"))
        node = NodeService(
            make_node_dir(tmp_path / "dongguan", "dongguan", server.url, COUNTY.public_key_hex)
        )
        nodes += [office, node]
        server.allow_node("jx", node.node_id, node.dir.ensure_nats_key())
        enrol_nodes(engine, office, node, office="county")
        feed(Ingestor(engine, "jx"), record(office, org_items()))  # the tree, straight in
        consumer = Consumer(
            Ingestor(engine, "jx", CountySigning(COUNTY)), server.url, identity=server.identity("county"),
            batch=200, ack_wait=5.0, repair_grace=1.0,
        )  # fmt: skip
        loops.append((Loop(consumer.run), ()))
        forwarder = Forwarder(node, server.url, backoff=Backoff(base=0.05, cap=0.5), repair_grace=1.0)
        loops.append((Loop(lambda stop: forwarder.run(stop, idle_poll=0.05)), (forwarder.wake,)))
        with serve_node(node) as node_url, serve(engine) as county_url:
            yield Stage(node_url, county_url, engine, node)
    finally:
        for loop, wake in reversed(loops):
            loop.close(*wake)
        for opened in nodes:
            opened.close()
        engine.dispose()
        server.stop()


def test_a_clerk_corrects_an_amount_and_voids_a_return_and_the_county_shows_both(
    watched_page: tuple[Page, Watch], stage: Stage
) -> None:
    page, watch = watched_page
    sign_in(page, stage.node_url)
    fill_registration(page, "王五", id_number(41), home_branch="v1")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 1")
    page.click("button[data-form=fund]")
    page.select_option("#f-source", "fiscal")
    page.fill("#f-amount_fen", "50")  # meant 5000
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 2")
    page.click("button[data-form=returned]")
    page.select_option("#f-member_id", index=1)
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 3")
    expect(page.locator("#records-list li.record")).to_have_count(3)
    expect(page.locator("#records-list li.record").first).to_have_attribute("data-seq", "3")

    stage.until(stage.funds, 5_000)  # the mistyped 50 元 reached the county

    fund = page.locator('#records-list li[data-seq="2"]')
    expect(fund).to_contain_text("50.00 元")
    fund.get_by_role("button", name="更正").click()
    expect(page.locator("#correction")).to_be_visible()
    expect(page.locator("#correction-text")).to_contain_text("第 2 条")
    expect(page.locator("#f-amount_fen")).to_have_value("50.00")
    expect(page.locator("#f-source")).to_have_value("fiscal")
    expect(page.locator("#submit")).to_have_text("记录更正")
    page.fill("#f-amount_fen", "5000")
    page.click("#submit")  # no reason yet: the node refuses, naming the field
    expect(page.locator('[data-error-for="reason"]')).to_contain_text("必填")
    page.fill("#f-reason", "金额录入错误，应为 5000 元")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("更正第 2 条")
    expect(page.locator("#correction")).to_be_hidden()
    expect(fund.locator(".badge")).to_have_text("已更正")
    expect(fund).to_contain_text("5000.00 元")
    expect(fund.locator(".record-fix")).to_contain_text("金额录入错误，应为 5000 元")

    returned = page.locator('#records-list li[data-seq="3"]')
    returned.get_by_role("button", name="作废").click()
    returned.locator(".void-reason").fill("误录：该党员并未返乡")
    returned.get_by_role("button", name="确认作废").click()
    expect(page.locator('#records-list li[data-seq="3"]')).to_have_class("record voided")
    expect(page.locator('#records-list li[data-seq="3"] .badge')).to_have_text("已作废")
    expect(page.locator('#records-list li[data-seq="3"] [type=button]', has_text="更正")).to_have_count(0)

    stage.until(stage.funds, 500_000)  # the county's fund figure follows the correction
    (row,) = stage.api("/api/v1/roster/members")["items"]
    member = row["member_id"]
    stage.until(lambda: stage.api(f"/api/v1/members/{member}")["status"], "out")
    assert stage.node.log.last_seq() == 5, "the originals stay in the log, the corrections follow them"
    watch.assert_clean()

    dashboard = page.context.new_page()
    dashboard.context.add_cookies([session_cookie(stage.engine, stage.county_url)])  # type: ignore[list-item]
    dashboard.goto(f"{stage.county_url}/#member={member}")
    dashboard.wait_for_selector(f'#card[data-member-id="{member}"]')
    history = dashboard.locator('[data-testid="history"] li')
    expect(history).to_have_count(3)  # registration, the return, the void
    original = dashboard.locator('[data-testid="history"] li[data-state="voided"]')
    expect(original).to_contain_text("返乡")
    expect(original.locator('[data-testid="fix-state"]')).to_contain_text("已作废：误录：该党员并未返乡")
    expect(dashboard.locator('[data-testid="fix-of"]')).to_contain_text("作废第 3 条：误录：该党员并未返乡")
    expect(dashboard.locator('[data-testid="card-status"]')).to_have_text("外出")
