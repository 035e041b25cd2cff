"""The outstation page in headless Chromium against a real node: record, refuse, import, status, a fork."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.branch_node.inputs import parse_item
from services.branch_node.service import NodeService
from shared import receipt
from shared.catalog.base import Personal
from shared.signing import Signer
from shared.transport import connect
from shared.wire import receipts_subject
from tests.browser.conftest import Watch
from tests.browser.outstation_form import fill_registration, sign_in
from tests.browser.outstation_server import fresh_node, serve_node
from tests.clerk import with_password
from tests.conftest import make_node_dir
from tests.county_receipts import COUNTY_KEY as RECEIPT_KEY
from tests.county_receipts import accept
from tests.e2e.test_node_serve import serving
from tests.samples import fund, id_number, xlsx
from tongxin.natsd import EmbeddedNats, ensure_stream

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

COUNTY_KEY = Signer.generate()
HEADER = ["姓名", "身份证号", "手机号", "所属支部", "流入地", "外出日期"]


@pytest.fixture
def outstation(tmp_path: Path) -> Iterator[tuple[str, NodeService]]:
    with fresh_node(tmp_path / "node") as served:
        yield served


def open_page(page: Page, url: str) -> None:
    sign_in(page, url)
    expect(page.locator("#node-name")).to_contain_text("dongguan")
    expect(page.locator("#f-personal-name")).to_be_visible()


def payloads(node: NodeService) -> list[dict[str, Any]]:
    return [msgspec.json.decode(data)["payload"] for _, data in node.envelopes.after(0, 100)]


def roster(path: Path, rows: list[list[Any]]) -> Path:
    path.write_bytes(xlsx(rows, HEADER))
    return path


def roster_row(i: int) -> list[Any]:
    return [f"党员{i}", id_number(i), f"139{i:08d}", "v-shangtang", "广东东莞", "2019-03-01"]


def test_page_loads_with_every_request_answered(watched_page: tuple[Page, Watch], outstation: Any) -> None:
    page, watch = watched_page
    url, _ = outstation
    open_page(page, url)
    expect(page.locator("#st-recorded")).to_have_text("0")
    expect(page.locator("#st-link")).to_contain_text("仅本地")
    expect(page.locator("#tabs button")).to_have_count(31)  # a form for every type a clerk records
    expect(page.locator("#f-outstation")).to_have_value("dongguan")
    expect(page.locator("#fork-banner")).to_be_hidden()
    watch.assert_clean()


def test_a_registration_typed_on_the_form_is_recorded_and_counted(
    watched_page: tuple[Page, Watch], outstation: Any
) -> None:
    page, watch = watched_page
    url, node = outstation
    open_page(page, url)
    fill_registration(page, "张三", id_number(7))
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「登记流动党员」，序号 1")
    assert node.log.last_seq() == 1
    expect(page.locator("#st-recorded")).to_have_text("1")
    expect(page.locator("#st-backlog")).to_have_text("1")
    logged = payloads(node)[0]  # sealed before it was logged: the node's key store opens it
    assert "张三" not in str(logged) and set(logged["personal"]) == {"sealed"}
    opened = node.keys.open(logged["member_id"], msgspec.convert(logged["personal"], Personal))
    assert opened is not None and opened.name == "张三"

    page.click("button[data-form=fund]")  # money in yuan on the form, fen in the event
    page.select_option("#f-source", "host_subsidy")
    page.fill("#f-amount_fen", "5000.5")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 2")
    assert payloads(node)[1]["amount_fen"] == 500050

    page.click("button[data-form=returned]")  # the member just registered is offered by name
    expect(page.locator("#f-member_id option", has_text="张三")).to_have_count(1)
    page.select_option("#f-member_id", label=page.locator("#f-member_id option").nth(1).inner_text())
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("序号 3")
    expect(page.locator("#st-recorded")).to_have_text("3")
    assert payloads(node)[2]["member_id"] == payloads(node)[0]["member_id"]
    watch.assert_clean()


def test_a_bad_value_shows_the_fields_error_and_records_nothing(
    watched_page: tuple[Page, Watch], outstation: Any
) -> None:
    page, watch = watched_page
    url, node = outstation
    open_page(page, url)
    fill_registration(page, "李四", "431126196001010001")  # wrong check digit
    error = page.locator('[data-error-for="personal.id_number"]')
    expect(error).to_contain_text("校验位")  # while typing, before any submit
    expect(page.locator('[data-error-for="personal.name"]')).to_be_empty()
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("未记录")
    expect(error).to_contain_text("校验位")

    page.click("button[data-form=fund]")
    page.select_option("#f-source", "fiscal")
    page.fill("#f-amount_fen", "-5")
    expect(page.locator('[data-error-for="amount_fen"]')).to_contain_text("金额须大于 0")
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("未记录")
    assert node.log.last_seq() == 0
    expect(page.locator("#st-recorded")).to_have_text("0")
    watch.assert_clean()


def test_roster_import_previews_errors_by_line_then_appends_a_clean_file(
    watched_page: tuple[Page, Watch], outstation: Any, tmp_path: Path
) -> None:
    page, watch = watched_page
    url, node = outstation
    open_page(page, url)
    bad = roster_row(2)
    bad[1] = "43112619600101000"  # 17 characters
    bad_book = roster(tmp_path / "名册-有误.xlsx", [roster_row(1), bad, roster_row(3)])
    page.set_input_files("#roster-file", str(bad_book))
    page.click("#preview-btn")
    expect(page.locator("#import-errors li")).to_have_count(1)
    expect(page.locator("#import-errors li")).to_contain_text("第 3 行 · 身份证号")
    expect(page.locator("#preview-table tbody tr")).to_have_count(2)
    expect(page.locator("#import-btn")).to_be_disabled()
    assert node.log.last_seq() == 0

    clean = tmp_path / "名册.csv"
    clean.write_text("\n".join(",".join(map(str, r)) for r in [HEADER, *map(roster_row, (1, 2, 3))]))
    page.set_input_files("#roster-file", str(clean))
    page.click("#preview-btn")
    expect(page.locator("#import-summary")).to_contain_text("共 3 人，全部无误")
    expect(page.locator("#preview-table tbody tr").first).not_to_contain_text(id_number(1))
    assert node.log.last_seq() == 0
    page.click("#import-btn")
    expect(page.locator("#import-summary")).to_contain_text("已导入 3 人（序号 1–3）")
    assert node.log.last_seq() == 3
    expect(page.locator("#st-recorded")).to_have_text("3")
    page.click("button[data-form=orglife]")  # the imported members are offered as attendees
    boxes = page.locator('[data-path="attendees"] input[type=checkbox]')
    expect(boxes).to_have_count(3)
    page.select_option("#f-kind", "theme_day")
    page.fill("#f-topic", "主题党日")
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.click("#submit")
    expect(page.locator("#form-result")).to_contain_text("已记录「组织生活」，序号 4")
    members = [p["member_id"] for p in payloads(node)[:3]]
    assert payloads(node)[3]["attendees"] == [members[0], members[2]]
    watch.assert_clean()

    # the screenshot for the README: a preview with a refused line, and a field refused while typing
    new_rows = [roster_row(4), bad, roster_row(5), roster_row(1)]  # 党员1 is registered by now
    page.set_input_files("#roster-file", str(roster(tmp_path / "名册-二.xlsx", new_rows)))
    page.click("#preview-btn")
    expect(page.locator("#import-errors li")).to_have_count(2)
    expect(page.locator("#import-errors li").nth(1)).to_contain_text("第 5 行 · 身份证号：此人已在本站登记")
    page.click("button[data-form=register]")
    fill_registration(page, "王五", "431126196001010001")
    expect(page.locator('[data-error-for="personal.id_number"]')).to_contain_text("校验位")
    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=str(tmp_path / "outstation.png"), full_page=True)  # renders whole
    watch.assert_clean()


def off_the_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end in a thread of its own: Playwright's loop owns this thread."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


async def publish_receipt(nats_url: str, r: receipt.Receipt) -> None:
    nc = await connect(nats_url)
    try:
        await nc.jetstream().publish(receipts_subject(r.county_id, r.node_id), receipt.encode(r))
    finally:
        await nc.close()


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A nats-server with the Tongxin streams (as the `nats_server` fixture, off Playwright's loop)."""
    server = EmbeddedNats(tmp_path / "nats", open_access=True)
    server.start()
    try:
        off_the_loop(ensure_stream(server.url))
        yield server
    finally:
        server.stop()


def test_node_serve_shows_forwarding_and_the_county_receipt(
    watched_page: tuple[Page, Watch], nats: EmbeddedNats, tmp_path: Path
) -> None:
    """The page as `tongxin node serve` serves it, forwarding to a real NATS."""
    page, watch = watched_page
    data = make_node_dir(tmp_path / "node", nats_url=nats.url, county_public_key=COUNTY_KEY.public_key_hex)
    with_password(data)
    with serving(data, nats.url) as (_, port, auth):
        url = f"http://127.0.0.1:{port}"
        open_page(page, url)
        expect(page.locator("#st-link")).to_have_text("已连接", timeout=30_000)
        fill_registration(page, "赵六", id_number(11))
        page.click("#submit")
        expect(page.locator("#form-result")).to_contain_text("序号 1")
        expect(page.locator("#st-waiting")).to_have_text("0", timeout=30_000)  # sent ...
        expect(page.locator("#st-unconfirmed")).to_have_text("1")  # ... but not the county's yet
        expect(page.locator("#st-backlog")).to_have_text("1")
        expect(page.locator("#st-confirmed")).to_have_text("0")
        expect(page.locator("#st-ack")).not_to_have_text("尚无")
        expect(page.locator("#st-receipt")).to_have_text("尚无")

        request = urllib.request.Request(f"{url}/api/v1/events?after=0", headers=auth)
        with urllib.request.urlopen(request, timeout=5) as r:
            (signed,) = json.loads(r.read())["events"]
        off_the_loop(
            publish_receipt(
                nats.url,
                receipt.issue(
                    COUNTY_KEY,
                    county_id="jx",
                    node_id="dongguan",
                    seq=1,
                    hash=signed["hash"],
                    received_at="2026-03-01T00:00:00.000000Z",
                    issued_at="2026-03-01T00:00:01.000000Z",
                ),
            )
        )
        # the forwarder asks for the county's receipt while one is owed: all reported once it has it
        expect(page.locator("#st-backlog")).to_have_text("0（已全部上报）", timeout=30_000)
        expect(page.locator("#st-confirmed")).to_have_text("1")
        expect(page.locator("#st-unconfirmed")).to_have_text("0")
        expect(page.locator("#st-receipt")).to_have_text("至序号 1 · 2026-03-01 08:00 · 已验签")
        page.click("button[data-form=fund]")
        page.select_option("#f-source", "fiscal")
        page.fill("#f-amount_fen", "100")
        page.click("#submit")
        expect(page.locator("#form-result")).to_contain_text("序号 2")
        expect(page.locator("#st-unconfirmed")).to_have_text("1", timeout=30_000)
        expect(page.locator("#st-backlog")).to_have_text("1")
        expect(page.locator("#fork-banner")).to_be_hidden()
    watch.assert_clean()


def health(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_confirmed_sent_and_waiting_then_a_fork_stops_reporting_with_a_red_banner(
    watched_page: tuple[Page, Watch], tmp_path: Path
) -> None:
    """What the county confirmed, what is only sent, what waits; then the county's newest receipt
    names another history than this node's, and the page says plainly that reporting stopped."""
    page, watch = watched_page
    node = NodeService(make_node_dir(tmp_path / "node", county_public_key=RECEIPT_KEY.public_key_hex))
    try:
        node.record([parse_item(fund(i), node.keys) for i in range(5)])
        node.envelopes.advance(4)  # JetStream acknowledged 1..4
        accept(node, 2)  # the county holds 1..2
        with serve_node(node) as url:
            open_page(page, url)
            expect(page.locator("#st-recorded")).to_have_text("5")
            expect(page.locator("#st-confirmed")).to_have_text("2")
            expect(page.locator("#st-backlog")).to_have_text("3")
            expect(page.locator("#st-unconfirmed")).to_have_text("2")
            expect(page.locator("#st-waiting")).to_have_text("1")
            expect(page.locator("#fork-banner")).to_be_hidden()
            assert health(url) == (200, {"status": "ok"})

            accept(node, 4, hash="ab" * 32)  # the county's newest word: another history at seq 4
            banner = page.locator("#fork-banner")
            expect(banner).to_be_visible(timeout=10_000)  # the panel's next refresh
            expect(page.locator("#fork-text")).to_have_text(
                "上报已停止：县里保存的本站记录与本机不一致（第 4 条）。"
                "请联系县里运维，运行 tongxin node recover 恢复。"
            )
            expect(page.locator("#fork-reason")).to_have_text(
                "原因：县里保存的第 4 条与本机的第 4 条内容不同。"
            )
            expect(page.locator("#st-link")).to_have_text("上报已停止")
            expect(page.locator("#st-backlog")).not_to_contain_text("全部上报")
            status, body = health(url)
            assert status == 503 and body["status"] == "forked" and body["fork"]["seq"] == 4
    finally:
        node.close()
    watch.assert_clean()
