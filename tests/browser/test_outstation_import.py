"""Importing a roster on the outstation page in headless Chromium against a real node: an .xlsx
with Excel date cells and dates typed as text, an ID number Excel made a number, and a member
already registered here, skipped while the rest are imported."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import openpyxl
import pytest

from services.branch_node.inputs import parse_item
from services.branch_node.members import MemberIndex
from services.branch_node.service import NodeService
from tests.browser.conftest import Watch
from tests.browser.outstation_form import sign_in
from tests.browser.outstation_server import serve_node
from tests.conftest import make_node_dir
from tests.samples import id_number

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

HEADER = ["姓名", "身份证号", "所属支部", "流入地", "外出日期"]
DATES: list[Any] = [
    datetime(2018, 5, 6),  # an Excel date cell
    43525,  # a date column formatted as a number: Excel's serial of 2019-03-01
    "2021/5/6",
    "2019.03.01",
    "2019年3月1日",
    "2019年3月",  # a month alone: the 1st, with a warning
]


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for row_cells in sheet.iter_rows(min_row=2, min_col=5, max_col=5):
        if isinstance(row_cells[0].value, datetime):
            row_cells[0].number_format = "yyyy-mm-dd"  # as Excel formats a date cell
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


@pytest.fixture
def outstation(tmp_path: Path) -> Iterator[tuple[str, NodeService]]:
    """A node where 张三 (ID number 0) is registered already."""
    node = NodeService(make_node_dir(tmp_path / "node"))
    item = {
        "type": "member.registered",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "payload": {
            "personal": {"name": "张三", "id_number": id_number(0)},
            "home_branch": "v-shangtang",
            "flowed_out_on": "2019-03-01",
        },
    }
    node.record([parse_item(item, node.keys)])
    try:
        with serve_node(node) as url:
            yield url, node
    finally:
        node.close()


def test_an_xlsx_with_excel_and_text_dates_imports_all_but_the_member_already_here(
    watched_page: tuple[Page, Watch], outstation: tuple[str, NodeService], tmp_path: Path
) -> None:
    page, watch = watched_page
    url, node = outstation
    sign_in(page, url)
    errors, warnings = page.locator("#import-errors li"), page.locator("#import-warnings li")

    numeric = [["李四", 4.31102198903150898e17, "v-shangtang", "广东东莞", "2019-03-01"]]
    bad = workbook(
        tmp_path / "名册-有误.xlsx",
        [["张三", id_number(0), "v-shangtang", "广东东莞", "2019-03-01"], *numeric],
    )
    page.set_input_files("#roster-file", str(bad))
    page.click("#preview-btn")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_have_text("第 2 行 · 身份证号：此人已在本站登记（同一身份证号）")
    expect(errors.nth(1)).to_have_text(
        "第 3 行 · 身份证号：Excel 把身份证号存成了数字，末几位已丢失：请把该列设为文本后重新输入"
    )
    expect(page.locator("#import-btn")).to_be_disabled()

    rows = [["张三", id_number(0), "v-shangtang", "广东东莞", "2019-03-01"]]
    rows += [[f"党员{i}", id_number(i), "v-shangtang", "广东东莞", d] for i, d in enumerate(DATES, start=1)]
    page.set_input_files("#roster-file", str(workbook(tmp_path / "总名册.xlsx", rows)))
    page.check("#skip-existing")
    page.click("#preview-btn")
    expect(page.locator("#import-summary")).to_have_text(
        "共 6 人，全部无误；1 人已在本站登记，将跳过；1 处提示，请核对。确认后导入。"
    )
    expect(errors).to_have_count(0)
    expect(warnings).to_have_count(1)
    expect(warnings.first).to_have_text(
        "第 8 行 · 外出日期：只填了年月，按该月 1 日（2019-03-01）登记，请核对"
    )
    table = page.locator("#preview-table tbody tr")
    expect(table).to_have_count(6)
    expect(table.first).to_contain_text("2018-05-06")
    assert node.log.last_seq() == 1

    page.click("#import-btn")
    expect(page.locator("#import-summary")).to_have_text("已导入 6 人（序号 2–7），跳过已登记的 1 人。")
    expect(page.locator("#st-recorded")).to_have_text("7")
    payloads = [msgspec.json.decode(data)["payload"] for _, data in node.envelopes.after(1, 100)]
    assert [p["flowed_out_on"] for p in payloads] == [
        "2018-05-06",
        "2019-03-01",
        "2021-05-06",
        "2019-03-01",
        "2019-03-01",
        "2019-03-01",
    ]
    names = [m.name for m in MemberIndex(node.log, node.keys).all()]  # 张三 once, the rest after
    assert names == ["张三", *(f"党员{i}" for i in range(1, 7))]
    watch.assert_clean()
