"""The organisation tree as the county office keeps it in Excel: one sheet, one row per
organisation, Chinese headers; read and checked whole (every error of every row). The workbook
to fill is `org_template`.

Columns: 类型 (县委, 乡镇党委, 村党支部, 流动党组织, 流入地党组织, 乡镇商会), 代码 (the id, a slug
such as `v-shangtang`), 名称, 上级代码 (the parent: a village's township, a township's county, a
host organisation's outstation …), 节点 (an outstation's branch node; default its code), 所在地
(where an outstation or a host organisation is: required for both), 模式 (an outstation's mode).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from shared.bounds import TEXT_PATTERN
from shared.catalog.base import OrgKind, OutstationMode
from shared.ids import is_slug

SHEET = "组织树"
HEADERS = ("类型", "代码", "名称", "上级代码", "节点", "所在地", "模式")
KIND_NAMES = {
    OrgKind.COUNTY_COMMITTEE: "县委",
    OrgKind.TOWNSHIP_COMMITTEE: "乡镇党委",
    OrgKind.VILLAGE_BRANCH: "村党支部",
    OrgKind.OUTSTATION: "流动党组织",
    OrgKind.HOST_ORG: "流入地党组织",
    OrgKind.TOWNSHIP_CHAMBER: "乡镇商会",
}
KIND_ALIASES = {
    "村支部": OrgKind.VILLAGE_BRANCH,
    "乡镇": OrgKind.TOWNSHIP_COMMITTEE,
    "县": OrgKind.COUNTY_COMMITTEE,
}
MODE_NAMES = {
    OutstationMode.SERVICE_STATION: "服务站",
    OutstationMode.INDUSTRY_CHAIN: "产业链",
    OutstationMode.BUILDING_MATERIALS: "建材",
    OutstationMode.LYCHEE: "荔枝",
    OutstationMode.CHAMBER: "商会",
}
PARENT_KINDS: dict[OrgKind, tuple[OrgKind, ...]] = {
    OrgKind.TOWNSHIP_COMMITTEE: (OrgKind.COUNTY_COMMITTEE,),
    OrgKind.VILLAGE_BRANCH: (OrgKind.TOWNSHIP_COMMITTEE,),
    OrgKind.OUTSTATION: (OrgKind.COUNTY_COMMITTEE, OrgKind.TOWNSHIP_COMMITTEE),
    OrgKind.HOST_ORG: (OrgKind.OUTSTATION,),
    OrgKind.TOWNSHIP_CHAMBER: (OrgKind.TOWNSHIP_COMMITTEE,),
}
"""Which kinds each kind's parent may be (a county committee has none)."""

MAX_BYTES = 5 * 1024 * 1024
"""The largest workbook read (a county's tree of a few thousand rows is well under 1 MB)."""
MAX_ROWS = 20_000
"""Organisations one sheet holds at most (a county has hundreds)."""
MAX_NAME = 100
"""Characters of a name or a location, at most."""
_TEXT = re.compile(TEXT_PATTERN)


@dataclass(frozen=True)
class SheetError:
    """One refused cell: the row (1 is the header; 0 the file as a whole), the column's header."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        return f"{where} · {self.column or '-'}：{self.reason}"


@dataclass(frozen=True)
class OrgRow:
    org_id: str
    kind: OrgKind
    name: str
    parent_id: str | None = None
    node_id: str | None = None
    host_location: str | None = None
    mode: OutstationMode | None = None

    def columns(self) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "kind": self.kind.value,
            "name": self.name,
            "parent_id": self.parent_id,
            "node_id": self.node_id,
            "host_location": self.host_location,
            "mode": self.mode.value if self.mode else None,
        }


@dataclass
class ParsedSheet:
    rows: list[OrgRow] = field(default_factory=list)
    errors: list[SheetError] = field(default_factory=list)


def _kind(text: str) -> OrgKind | None:
    for kind, name in KIND_NAMES.items():
        if text in (name, kind.value):
            return kind
    return KIND_ALIASES.get(text)


def _mode(text: str) -> OutstationMode | None:
    for mode, name in MODE_NAMES.items():
        if text in (name, mode.value):
            return mode
    return None


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


class _Row:
    """The checks of one row; every failed one is noted, none stops the others."""

    def __init__(self, number: int, cells: dict[str, str], errors: list[SheetError]) -> None:
        self.number, self.cells, self.errors = number, cells, errors

    def fail(self, column: str, reason: str) -> None:
        self.errors.append(SheetError(self.number, column, reason))

    def slug(self, column: str, required: bool) -> str | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.fail(column, "必填")
            return None
        if not is_slug(value):
            self.fail(column, f"{value!r} 不是代码：小写字母、数字、- 或 _，如 v-shangtang")
            return None
        return value

    def name(self, column: str, required: bool) -> str | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.fail(column, "必填")
            return None
        if len(value) > MAX_NAME:
            self.fail(column, f"最多 {MAX_NAME} 个字")
        elif not _TEXT.match(value):
            self.fail(column, "不能含控制字符")
        else:
            return value
        return None

    def empty_unless(self, column: str, allowed: bool, kind: OrgKind) -> None:
        if not allowed and self.cells.get(column):
            self.fail(column, f"{KIND_NAMES[kind]}不填此列")


def check_row(number: int, cells: dict[str, str], errors: list[SheetError]) -> OrgRow | None:
    """One row as an organisation (for the checks across rows), every reason it is wrong noted in
    `errors`; None where its kind or code is unreadable."""
    row = _Row(number, cells, errors)
    kind_text = cells.get("类型", "")
    kind = _kind(kind_text)
    if kind is None:
        row.fail(
            "类型", "必填" if not kind_text else f"{kind_text!r} 不是类型：{'、'.join(KIND_NAMES.values())}"
        )
    org_id = row.slug("代码", required=True)
    name = row.name("名称", required=True)
    parent = row.slug("上级代码", required=kind is not None and kind is not OrgKind.COUNTY_COMMITTEE)
    if kind is OrgKind.COUNTY_COMMITTEE and parent:
        row.fail("上级代码", "县委没有上级")
    if parent is not None and parent == org_id:
        row.fail("上级代码", "不能是自己")
    node = row.slug("节点", required=False)
    location = row.name("所在地", required=kind in (OrgKind.OUTSTATION, OrgKind.HOST_ORG))
    mode_text = cells.get("模式", "")
    mode = _mode(mode_text) if mode_text else None
    if mode_text and mode is None:
        row.fail("模式", f"{mode_text!r} 不是模式：{'、'.join(MODE_NAMES.values())}")
    if kind is not None:
        row.empty_unless("节点", kind is OrgKind.OUTSTATION, kind)
        row.empty_unless("模式", kind is OrgKind.OUTSTATION, kind)
        row.empty_unless("所在地", kind in (OrgKind.OUTSTATION, OrgKind.HOST_ORG), kind)
    if kind is None or org_id is None:
        return None  # the checks across rows need both; every other error is noted already
    if kind is OrgKind.OUTSTATION and node is None:
        node = org_id
    return OrgRow(org_id, kind, name or "", parent, node, location, mode)


def check_tree(rows: list[tuple[int, OrgRow]], known: dict[str, str], errors: list[SheetError]) -> None:
    """Across rows: codes and nodes unique, each parent a code of the file or of `known` (org id →
    kind, the register as loaded before) of a kind that may be its parent."""
    kinds = dict(known)
    first: dict[str, int] = {}
    nodes: dict[str, int] = {}
    for number, r in rows:
        if r.org_id in first:
            errors.append(SheetError(number, "代码", f"{r.org_id} 已在第 {first[r.org_id]} 行"))
        first.setdefault(r.org_id, number)
        kinds[r.org_id] = r.kind.value
        if r.node_id is not None:
            if r.node_id in nodes:
                errors.append(SheetError(number, "节点", f"节点 {r.node_id} 已在第 {nodes[r.node_id]} 行"))
            nodes.setdefault(r.node_id, number)
    for number, r in rows:
        if r.parent_id is None:
            continue
        parent_kind = kinds.get(r.parent_id)
        allowed = PARENT_KINDS.get(r.kind, ())
        if parent_kind is None:
            errors.append(SheetError(number, "上级代码", f"没有代码为 {r.parent_id} 的组织"))
        elif parent_kind not in {k.value for k in allowed}:
            wanted = "或".join(KIND_NAMES[k] for k in allowed)
            errors.append(SheetError(number, "上级代码", f"{KIND_NAMES[r.kind]}的上级应是{wanted}"))


def read_sheet(data: bytes, known: dict[str, str] | None = None) -> ParsedSheet:
    """Every organisation of the workbook's first sheet, or every error of every row."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    parsed = ParsedSheet()
    if len(data) > MAX_BYTES:
        parsed.errors.append(SheetError(0, "", f"文件大于 {MAX_BYTES >> 20} MB"))
        return parsed
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        parsed.errors.append(SheetError(0, "", f"不是 .xlsx 工作簿（{exc}）"))
        return parsed
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        lines = sheet.iter_rows(max_col=len(HEADERS) + 8, values_only=True)
        header = [_text(c) for c in next(lines, ())]
        missing = [h for h in HEADERS[:4] if h not in header]
        for h in missing:
            parsed.errors.append(SheetError(1, h, "表头缺少此列"))
        table: list[tuple[int, list[str]]] = []
        for number, line in enumerate(lines, start=2):
            if number > MAX_ROWS + 1:
                parsed.errors.append(SheetError(number, "", f"最多 {MAX_ROWS:,} 行"))
                break
            table.append((number, [_text(c) for c in line]))
    finally:
        book.close()
    if missing:
        return parsed
    good: list[tuple[int, OrgRow]] = []
    for number, cells in table:
        if not any(cells):
            continue
        named = {h: v for h, v in zip(header, cells, strict=False) if h in HEADERS}
        found = check_row(number, named, parsed.errors)
        if found is not None:
            good.append((number, found))
    check_tree(good, known or {}, parsed.errors)
    parsed.errors.sort(key=lambda e: (e.row, HEADERS.index(e.column) if e.column in HEADERS else -1))
    if not parsed.errors:
        parsed.rows = [r for _, r in good]
    return parsed
