"""The workbook a county office fills to load its organisation tree (`tongxin county load-orgs
--template`): the sheet 组织树 with its Chinese headers and an example row per kind, and a sheet
说明 that says what each column takes."""

from __future__ import annotations

import io

from services.county.reference.org_sheet import HEADERS, KIND_NAMES, MODE_NAMES, SHEET

EXAMPLE = [
    ("县委", "xiangyuan", "中共湘源县委员会", "", "", "", ""),
    ("乡镇党委", "t-shangtang", "上塘镇党委", "xiangyuan", "", "", ""),
    ("村党支部", "v-shangtang", "上塘村党支部", "t-shangtang", "", "", ""),
    ("流动党组织", "dongguan", "驻东莞流动党员服务站党支部", "xiangyuan", "dongguan", "广东东莞", "服务站"),
    ("流入地党组织", "dg-host", "东莞市长安镇党委", "dongguan", "", "广东东莞", ""),
]


def template() -> bytes:
    """The workbook to fill: the header, one example row per kind, and a sheet that explains."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(HEADERS))
    for row in EXAMPLE:
        sheet.append(list(row))
    for col, width in zip("ABCDEFG", (14, 16, 30, 16, 14, 14, 10), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 90
    for line in (
        ("类型", "、".join(KIND_NAMES.values())),
        ("代码", "组织的代码：小写字母、数字、- 或 _，如 v-shangtang；全表不重复"),
        ("名称", "组织的中文全称，最多 100 字"),
        (
            "上级代码",
            "村党支部填所属乡镇党委的代码，乡镇党委填县委的代码，流动党组织填县委（或乡镇党委）的代码，"
            "流入地党组织填所对接的流动党组织的代码；县委不填",
        ),
        ("节点", "流动党组织的节点代码（tongxin county enrol-node 时用的），不填即与代码相同；其他类型不填"),
        ("所在地", "流动党组织、流入地党组织必填，如 广东东莞；其他类型不填"),
        ("模式", "流动党组织的模式（可不填）：" + "、".join(MODE_NAMES.values())),
        (
            "导入",
            "tongxin county load-orgs 组织树.xlsx：有一处错误就一行也不导入；可重复导入，只更新有变化的行",
        ),
    ):
        notes.append(list(line))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
