"""The roster templates a clerk fills in: an .xlsx workbook and a UTF-8 CSV with a BOM.

Both have the Chinese headers an import reads (`roster_files.ROSTER_HEADERS`) and one example
row. In the workbook the ID number column is text (so Excel keeps all 18 characters, and a final
X), the date column holds dates, and a second sheet says how to fill it in; an import reads only
the first sheet. The CSV has a BOM so that Excel on a Chinese Windows opens it as UTF-8.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from services.branch_node.roster_cells import DATE_FORMS
from services.branch_node.roster_files import ROSTER_HEADERS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADERS = [h for h in ROSTER_HEADERS if h != "登记时间"]
"""The columns of a registration (its time is the import's, unless a 登记时间 column gives it)."""
EXAMPLE = ["张三", "11010519491231002X", "13800000000", "v-shangtang", "dongguan", "广东东莞", "", "皮具加工"]
EXAMPLE_DATE = date(2019, 3, 1)
WIDTHS = [10, 22, 14, 16, 14, 14, 16, 14, 12]

GUIDE = [
    "每行一名党员；第一行是列名，请勿修改。导入只读第一个工作表。",
    "第 2 行是示例（张三），导入前请改成实际党员或删除。",
    "身份证号、手机号两列已设为文本：请直接输入，末位 X 可大写或小写。",
    "若身份证号显示为 4.31126E+17 之类的数字，说明已被 Excel 存成数字、末几位已丢失："
    "请把该列设为文本后重新输入。",
    "外出日期：可填日期，或写成 2019-03-01、2019/3/1、2019.3.1、2019年3月1日；"
    "只写年月（2019年3月）时按该月 1 日登记，预览时会提示。",
    "所属支部、流动党组织、流入地党组织填组织代码（如 v-shangtang）。",
    "预览无误后再确认导入；可勾选“跳过已登记的党员”，只导入本站尚未登记的人。",
]


def template_csv() -> bytes:
    """The CSV template: BOM, the headers, the example row (CRLF, as Excel writes CSV)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerow([*EXAMPLE, EXAMPLE_DATE.isoformat()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The workbook template: the roster sheet (typed cells, widths, a frozen header) and a guide."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "党员名册"
    sheet.append(HEADERS)
    sheet.append([*EXAMPLE, EXAMPLE_DATE])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FCE4D6")
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    dated = HEADERS.index("外出日期") + 1
    formats = {HEADERS.index("身份证号") + 1: "@", HEADERS.index("手机号") + 1: "@", dated: "yyyy-mm-dd"}
    for column, number_format in formats.items():  # the column's own format: what a clerk types there
        sheet.column_dimensions[get_column_letter(column)].number_format = number_format
        sheet.cell(row=2, column=column).number_format = number_format
    sheet["A2"].comment = Comment("示例行：导入前请改成实际党员或删除。", "同心")
    sheet.cell(row=1, column=dated).comment = Comment(f"日期，或写成 {DATE_FORMS}", "同心")
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("填写说明")
    guide.column_dimensions["A"].width = 100
    for line in GUIDE:
        guide.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
