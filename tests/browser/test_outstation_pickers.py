"""The outstation page's pickers in headless Chromium (issue 16): the county's reference data came
over a real nats-server with users and was cached; then NATS is stopped, and the clerk picks a
village by its Chinese name, finds members by name (only those who can take the event) and
selects attendees with search and select-all — all offline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.branch_node.inputs import parse_item
from services.branch_node.reference import cache_of, fetch
from services.branch_node.service import NodeService
from shared.transport import connect
from tests.browser.conftest import Watch
from tests.browser.outstation_form import sign_in
from tests.browser.outstation_server import serve_node
from tests.browser.test_outstation import off_the_loop
from tests.reference_scenario import MOVED, County, allow, county, publish, registration
from tests.samples import id_number
from tongxin.natsd import EmbeddedNats, ensure_stream

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

DOCS = Path(__file__).resolve().parents[2] / "docs"


def cached_then_offline(tmp_path: Path) -> County:
    """The county publishes, dongguan fetches into its cache, then the NATS server is gone."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    c = county(tmp_path / "site", server.url)
    try:
        allow(server, c.dongguan, c.huadu)

        async def over_nats() -> None:
            await ensure_stream(server.url, identity=server.identity("operator"))
            await publish(server, c)
            nc = await connect(server.url, identity=c.dongguan.dir.nats_identity())
            try:
                assert await fetch(nc.jetstream(), c.dongguan, cache_of(c.dongguan)) == 2
            finally:
                await nc.close()

        off_the_loop(over_nats())
    except BaseException:
        c.close()
        raise
    finally:
        server.stop()
    return c


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[tuple[str, County]]:
    c = cached_then_offline(tmp_path)
    try:
        with serve_node(c.dongguan) as url:
            yield url, c
    finally:
        c.close()


def payloads(node: NodeService) -> list[dict[str, Any]]:
    return [msgspec.json.decode(data)["payload"] for _, data in node.envelopes.after(0, 100)]


def test_a_village_is_picked_by_its_chinese_name_while_the_node_is_offline(
    watched_page: tuple[Page, Watch], offline: tuple[str, County]
) -> None:
    page, watch = watched_page
    url, c = offline
    sign_in(page, url)
    expect(page.locator("#node-name")).to_have_text("驻东莞服务站党支部 · 中共江县委员会")
    expect(page.locator("#st-link")).to_contain_text("仅本地")  # no NATS here at all
    expect(page.locator("#f-outstation")).to_have_value("驻东莞服务站党支部")
    page.fill("#f-personal-name", "钱八")
    page.fill("#f-personal-id_number", id_number(8))
    page.fill("#f-host_location", "广东东莞")
    page.fill("#f-flowed_out_on", "2019-03-01")
    page.click("#f-home_branch")
    page.keyboard.type("上塘")
    options = page.locator("#f-home_branch-list li[role=option]")
    expect(options).to_have_count(1)  # villages only: not 上塘镇党委
    expect(options.first).to_contain_text("上塘村党支部")
    expect(options.first).to_contain_text("上塘镇党委")  # its township, to tell namesakes apart
    options.first.click()
    expect(page.locator("#f-home_branch")).to_have_value("上塘村党支部")
    page.click("#f-host_org")
    page.keyboard.type("长安")
    page.keyboard.press("Enter")  # the first suggestion, by keyboard
    expect(page.locator("#f-host_org")).to_have_value("东莞市长安镇党委")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「登记流动党员」，序号 1")
    (sent,) = payloads(c.dongguan)
    assert (sent["home_branch"], sent["host_org"], sent["outstation"]) == (
        "v-shangtang",
        "dg-host",
        "dongguan",
    )
    record = page.locator('#records-list li[data-seq="1"]')
    expect(record).to_contain_text("所属村支部 上塘村党支部")  # the list reads names too, not codes
    expect(record).to_contain_text("流入地党组织 东莞市长安镇党委")
    if os.environ.get("TONGXIN_SCREENSHOTS"):  # the README's picture: a node with the county's tree
        page.click("#f-home_branch")
        page.keyboard.type("村")
        page.screenshot(path=str(DOCS / "outstation.png"), full_page=True)
    watch.assert_clean()


def record_members(node: NodeService) -> dict[str, str]:
    """张三, 陈七 and 赵六 away, 李四 returned, 王五 transferred out, all registered at dongguan;
    name → member id."""
    names = {3: "张三", 4: "李四", 5: "王五", 6: "陈七", 7: "赵六"}
    items = [registration(i, n, "dongguan") for i, n in names.items()]
    ids = {n: item["payload"]["member_id"] for n, item in zip(names.values(), items, strict=True)}
    items.append({"type": "member.returned", "payload": {"member_id": ids["李四"]}})
    items.append({"type": "member.transferred_out", "payload": {"member_id": ids["王五"], "to_org": "外县"}})
    node.record([parse_item(i, node.keys) for i in items])
    return ids


def test_members_are_found_by_name_and_only_those_who_can_return_are_offered(
    watched_page: tuple[Page, Watch], offline: tuple[str, County]
) -> None:
    page, watch = watched_page
    url, c = offline
    ids = record_members(c.dongguan)
    sign_in(page, url)
    page.click("button[data-form=returned]")
    offered = page.locator("#f-member_id option:not([value=''])")
    expect(offered).to_have_count(3)  # not 李四 (returned), 王五 (transferred out), 王小明 (not ours)
    labels = offered.all_inner_texts()
    assert [label.split("（")[0] for label in labels] == ["陈七", "张三", "赵六"]  # by name, pinyin order
    assert all("上塘村党支部" in label for label in labels)  # the village by name, not its code
    page.fill("#f-member_id-search", "张")
    expect(page.locator("#f-member_id")).to_have_value(ids["张三"])  # the one match is chosen
    expect(page.locator("#f-member_id option:not([value='']):not([hidden])")).to_have_count(1)
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「党员返乡」")
    assert payloads(c.dongguan)[-1]["member_id"] == ids["张三"]
    expect(offered).to_have_count(2)  # 张三 has returned now: no longer offered
    page.click("button[data-form=restored]")
    expect(page.locator("#f-member_id option:not([value=''])")).to_have_count(0)  # nobody lost contact
    page.click("button[data-form=lost]")
    expect(page.locator("#f-member_id option", has_text="李四")).to_have_count(1)  # returned can lose contact
    watch.assert_clean()


def test_attendees_are_searched_and_selected_all_at_once(
    watched_page: tuple[Page, Watch], offline: tuple[str, County]
) -> None:
    page, watch = watched_page
    url, c = offline
    ids = record_members(c.dongguan)
    sign_in(page, url)
    page.click("button[data-form=orglife]")
    boxes = page.locator('[data-path="attendees"] label:not([hidden]) input[type=checkbox]')
    expect(boxes).to_have_count(4)  # 陈七, 王小明 (co-managed here), 张三, 赵六; not 李四, 王五
    expect(page.locator('[data-path="attendees"] .checks label').nth(1)).to_contain_text("王小明")
    page.fill("#f-attendees-search", "王")
    expect(boxes).to_have_count(1)
    page.click("#f-attendees-all")
    expect(page.locator(".picker-count")).to_have_text("已选 1 / 4 人")
    page.fill("#f-attendees-search", "")
    expect(boxes).to_have_count(4)
    page.click("#f-attendees-none")
    expect(page.locator(".picker-count")).to_have_text("已选 0 / 4 人")
    page.click("#f-attendees-all")
    expect(page.locator(".picker-count")).to_have_text("已选 4 / 4 人")
    page.select_option("#f-kind", "theme_day")
    page.fill("#f-topic", "主题党日")
    expect(page.locator("#f-org_id")).to_have_value("驻东莞服务站党支部")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「组织生活」")
    sent = payloads(c.dongguan)[-1]
    assert sent["org_id"] == "dongguan"
    assert sorted(sent["attendees"]) == sorted([ids["陈七"], MOVED, ids["张三"], ids["赵六"]])
    watch.assert_clean()
