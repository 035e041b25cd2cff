"""A file of events or a roster as items for `inputs.parse_item`: JSON Lines, CSV (UTF-8 with or
without BOM, or GB 18030) and .xlsx; a file is bounded (rows, columns) before it is read whole."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.branch_node.application import NewEvent
from services.branch_node.inputs import MemberIds, cell_value, parse_item, parse_json, set_dotted
from shared.errors import FieldError


@dataclass
class ParsedFile:
    """A file's events, the line each came from, and every refused line with its reason."""

    events: list[NewEvent] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[tuple[int, FieldError]] = field(default_factory=list)
    """(line, error) of each refused line; line 0 is the file as a whole."""

    @property
    def problems(self) -> list[str]:
        return [f"line {line}: {exc}" if line else str(exc) for line, exc in self.errors]


def read_file(data: str | bytes, kind: str, default_type: str | None, ids: MemberIds) -> ParsedFile:
    """Parse a .csv, .xlsx or .jsonl file; CSV and Excel cells are text, so numbers and dates are
    converted. An .xlsx is read like a CSV: its first sheet, the header row naming the fields."""
    parsed = ParsedFile()
    ids = _Remembered(ids)  # one person twice in a file: one member, registered twice (refused)
    try:
        rows = _rows(data, kind, default_type)
        for line, item in rows:
            try:
                if isinstance(item, FieldError):
                    raise item
                parsed.events.append(parse_item(item, ids, strict=kind not in ("csv", "xlsx")))
                parsed.lines.append(line)
            except FieldError as exc:
                parsed.errors.append((line, exc))
    except FieldError as exc:  # the file itself is unreadable
        parsed.errors.append((0, exc))
    return parsed


class _Remembered:
    """The member ids given so far, by ID number: the same number gets the same id again."""

    def __init__(self, ids: MemberIds) -> None:
        self.ids = ids
        self.given: dict[str, str] = {}

    def assign(self, id_number: str) -> str:
        found = self.given.get(id_number)
        if found is None:
            found = self.given[id_number] = self.ids.assign(id_number)
        return found


def _rows(data: str | bytes, kind: str, default_type: str | None) -> Iterable[tuple[int, Any]]:
    if kind == "xlsx":
        if isinstance(data, str):
            raise FieldError("file", "an .xlsx workbook must be read as bytes")
        return read_xlsx(data, default_type)
    text = decode_text(data) if isinstance(data, bytes) else data
    return read_csv(text, default_type) if kind == "csv" else read_jsonl(text)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); else GB 18030, as Excel on a Chinese Windows saves CSV."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise FieldError("file", "not text in UTF-8 or GB 18030") from None


def read_jsonl(text: str) -> Iterable[tuple[int, Any]]:
    """One JSON value per line. Lines end at `\\n` (or `\\r\\n`) only: `str.splitlines` would also
    cut at U+2028, U+2029 and U+0085, which JSON allows raw inside a string, and at \\x0b, \\x0c
    and \\x1c–\\x1e, shifting every line number after them."""
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        try:
            yield number, parse_json(line, "")
        except FieldError as exc:
            yield number, exc


ROSTER_HEADERS = {
    "姓名": "personal.name",
    "身份证号": "personal.id_number",
    "手机号": "personal.phone",
    "所属支部": "home_branch",
    "流动党组织": "outstation",
    "流入地": "host_location",
    "流入地党组织": "host_org",
    "职业": "occupation",
    "外出日期": "flowed_out_on",
    "登记时间": "occurred_at",
}
"""Chinese column names a roster may use instead of the field names (member.registered)."""


def read_csv(text: str, default_type: str | None) -> Iterable[tuple[int, Any]]:
    """Header row names fields: `type`, `occurred_at` and payload fields (dotted for nesting)."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        for row in reader:
            yield reader.line_num, row_item(row, default_type)
    except csv.Error as exc:  # e.g. a cell beyond the csv module's 131,072 characters
        raise FieldError("file", f"line {reader.line_num + 1}: not readable as CSV ({exc})") from None


def row_item(row: dict[str | None, str | None], default_type: str | None) -> dict[str, Any]:
    """One CSV or Excel row, as cells of text by header name, as a request item."""
    item: dict[str, Any] = {"payload": {}}
    if default_type:
        item["type"] = default_type
    for header, cell in row.items():
        if header is None or cell is None or cell.strip() == "":
            continue
        key = ROSTER_HEADERS.get(header.strip(), header.strip())
        if key in ("type", "occurred_at"):
            item[key] = cell.strip()
        else:
            set_dotted(item["payload"], key, cell_value(cell))
    return item


MAX_ROWS = 100_000
"""Rows of a sheet below its header, at most (an outstation's roster has hundreds)."""
MAX_COLUMNS = 64
"""Columns of a sheet, at most (a roster has about ten)."""


def read_xlsx(data: bytes, default_type: str | None) -> Iterable[tuple[int, Any]]:
    """The first sheet of a workbook as CSV rows: row 1 names the fields, line = the row number."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise FieldError("file", f"not an .xlsx workbook ({exc})") from None
    try:
        # read-only mode pads every row to the width the file claims (up to 16,384 columns) and
        # takes its height on trust: both are capped while streaming. Cells beyond the header's
        # columns name no field and are ignored, as they always were.
        rows = book.worksheets[0].iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        header = [excel_text(cell) for cell in next(rows, ())]
        if len(header) > MAX_COLUMNS and header[MAX_COLUMNS]:
            raise FieldError("file", f"a header of at most {MAX_COLUMNS} columns")
        table = []
        for line, row in enumerate(rows, start=2):
            if line > MAX_ROWS + 1:
                raise FieldError("file", f"a sheet of at most {MAX_ROWS:,} rows below its header")
            table.append([excel_text(cell) for cell in row[:MAX_COLUMNS]])
    finally:
        book.close()
    for line, cells in enumerate(table, start=2):
        if any(cells):
            yield line, row_item(dict(zip(header[:MAX_COLUMNS], cells, strict=False)), default_type)


def excel_text(cell: Any) -> str:
    """A cell as the text a clerk sees: 500000 not 500000.0, a date as 2019-03-01."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)
