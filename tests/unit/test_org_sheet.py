"""Reading the county's organisation tree from Excel (`tongxin county load-orgs`): every error of
every row, by row and column, and nothing taken from a file with any."""

from __future__ import annotations

import io

import openpyxl

from services.county.reference.org_sheet import HEADERS, MAX_BYTES, SHEET, read_sheet
from services.county.reference.org_template import template
from shared.catalog.base import OrgKind, OutstationMode
from tests.reference_scenario import TREE
from tests.samples import xlsx


def test_the_template_reads_back_as_a_tree_with_chinese_headers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template()))
    assert book.sheetnames == [SHEET, "说明"]
    assert [c.value for c in book[SHEET][1]] == list(HEADERS)
    parsed = read_sheet(template())
    assert parsed.errors == []
    assert {r.kind for r in parsed.rows} == {
        OrgKind.COUNTY_COMMITTEE,
        OrgKind.TOWNSHIP_COMMITTEE,
        OrgKind.VILLAGE_BRANCH,
        OrgKind.OUTSTATION,
        OrgKind.HOST_ORG,
    }


def test_a_good_tree_gives_each_organisation_with_its_parent_node_and_location() -> None:
    parsed = read_sheet(xlsx(TREE, list(HEADERS)))
    assert parsed.errors == []
    by_id = {r.org_id: r for r in parsed.rows}
    assert (by_id["v-shangtang"].name, by_id["v-shangtang"].parent_id) == ("上塘村党支部", "t-shangtang")
    dongguan = by_id["dongguan"]
    assert (dongguan.node_id, dongguan.host_location, dongguan.mode) == (
        "dongguan",
        "广东东莞",
        OutstationMode.SERVICE_STATION,
    )
    assert by_id["dg-host"].parent_id == "dongguan" and by_id["dg-host"].node_id is None


def test_every_error_of_every_row_is_named_by_row_and_column_and_no_row_is_taken() -> None:
    rows = [
        ["县委", "county", "中共江县委员会", "", "", "", ""],
        ["乡", "T1", "", "county", "", "", ""],  # row 3: kind, code and name all wrong
        ["村党支部", "v1", "上塘村党支部", "nowhere", "", "", ""],  # row 4: unknown parent
        ["村党支部", "v2", "东坪村党支部", "county", "", "广东", ""],  # row 5: parent kind; location
        ["流动党组织", "dongguan", "驻东莞", "county", "", "", "飞机"],  # row 6: location; mode
        ["流入地党组织", "v1", "长安镇党委", "dongguan", "x", "广东东莞", ""],  # row 7: dup code; node
    ]
    parsed = read_sheet(xlsx(rows, list(HEADERS)))
    assert parsed.rows == []
    found = [(e.row, e.column) for e in parsed.errors]
    assert found == [
        (3, "类型"),
        (3, "代码"),
        (3, "名称"),
        (4, "上级代码"),
        (5, "上级代码"),
        (5, "所在地"),
        (6, "所在地"),
        (6, "模式"),
        (7, "代码"),
        (7, "节点"),
    ]
    reasons = {(e.row, e.column): e.reason for e in parsed.errors}
    assert "nowhere" in reasons[4, "上级代码"]
    assert reasons[5, "上级代码"] == "村党支部的上级应是乡镇党委"
    assert reasons[7, "代码"] == "v1 已在第 4 行"


def test_a_parent_may_be_one_the_register_already_holds_and_english_kinds_are_taken() -> None:
    rows = [["village_branch", "v9", "新田村党支部", "t-shangtang", "", "", ""]]
    parsed = read_sheet(xlsx(rows, list(HEADERS)), {"t-shangtang": "township_committee"})
    assert parsed.errors == [] and parsed.rows[0].kind is OrgKind.VILLAGE_BRANCH
    assert [(e.row, e.column) for e in read_sheet(xlsx(rows, list(HEADERS))).errors] == [(2, "上级代码")]


def test_a_file_that_is_not_a_tree_is_refused_as_a_whole() -> None:
    (refused,) = read_sheet(b"name,code\n").errors
    assert str(refused).startswith("文件 · -：不是 .xlsx 工作簿")
    assert read_sheet(b"0" * (MAX_BYTES + 1)).errors[0].reason == "文件大于 5 MB"
    missing = read_sheet(xlsx([["县委", "county"]], ["类型", "代码"]))
    assert [(e.row, e.column, e.reason) for e in missing.errors] == [
        (1, "名称", "表头缺少此列"),
        (1, "上级代码", "表头缺少此列"),
    ]


def test_a_name_with_a_control_character_or_too_long_is_refused() -> None:
    rows = [
        ["县委", "county", "中共\x85江县", "", "", "", ""],  # a C1 control (Excel holds no C0 one)
        ["乡镇党委", "t1", "乡" * 101, "county", "", "", ""],
    ]
    parsed = read_sheet(xlsx(rows, list(HEADERS)))
    assert [(e.row, e.column, e.reason) for e in parsed.errors] == [
        (2, "名称", "不能含控制字符"),
        (3, "名称", "最多 100 个字"),
    ]
