"""A file of events or a roster as items for `inputs.parse_item`: JSON Lines, CSV (UTF-8 with or
without BOM, or GB 18030) and .xlsx; a file is bounded (rows, columns) before it is read whole."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from services.branch_node.application import NewEvent
from services.branch_node.inputs import MemberIds, cell_value, parse_item, parse_json, set_dotted
from services.branch_node.roster_cells import date_cell, date_fields, id_number_cell, required_fields
from shared.catalog.base import id_number_problem
from shared.errors import FieldError


@dataclass
class ParsedFile:
    """A file's events, the line each came from, and every refused line with its reasons."""

    events: list[NewEvent] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[tuple[int, FieldError]] = field(default_factory=list)
    """(line, error), every error of every refused line; line 0 is the file as a whole."""
    warnings: list[tuple[int, FieldError]] = field(default_factory=list)
    """(line, warning): a value read with an assumption (a month without its day), still imported."""
    skipped: list[int] = field(default_factory=list)
    """Lines of members already registered at this node, left out (`skip_existing`)."""

    @property
    def problems(self) -> list[str]:
        return [f"line {line}: {exc}" if line else str(exc) for line, exc in self.errors]


class KnownMembers(MemberIds, Protocol):
    """The node's key store, as an import asks it: who an ID number is, and is it registered here."""

    def member_of(self, id_number: str) -> str | None: ...


@dataclass
class Row:
    """One line of a file as a request item (None: unreadable), and what its cells said."""

    line: int
    item: Any
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    """The fields of the file's columns, in order: a line's errors are listed in this order."""

    def in_order(self, errors: list[FieldError]) -> list[FieldError]:
        place = {name: i for i, name in enumerate(self.columns)}
        return sorted(errors, key=lambda e: place.get(e.field, len(place)))


def read_file(
    data: str | bytes, kind: str, default_type: str | None, ids: KnownMembers, *, skip_existing: bool = False
) -> ParsedFile:
    """Parse a .csv, .xlsx or .jsonl file, every error of every line; CSV and Excel cells are
    read as a clerk wrote them (`roster_cells`). With `skip_existing`, a registration of a member
    this node already indexes under that ID number is left out and counted, not refused."""
    parsed = ParsedFile()
    known = _Remembered(ids)  # one person twice in a file: one member, registered twice (refused)
    strict = kind not in ("csv", "xlsx")
    try:
        for row in _rows(data, kind, default_type):
            if skip_existing and _registered_here(row.item, ids):
                parsed.skipped.append(row.line)
                continue
            _read_row(parsed, row, known, strict)
    except FieldError as exc:  # the file itself is unreadable
        parsed.errors.append((0, exc))
    return parsed


def _read_row(parsed: ParsedFile, row: Row, ids: MemberIds, strict: bool) -> None:
    errors, new = list(row.errors), None
    if row.item is not None:
        try:
            new = parse_item(row.item, ids, strict=strict)
        except FieldError as exc:
            named = {e.field for e in errors}  # a cell refused is refused once, for its own reason
            errors.extend(e for e in exc.all() if e.field not in named)
    parsed.warnings.extend((row.line, w) for w in row.warnings)
    if errors:
        parsed.errors.extend((row.line, e) for e in row.in_order(errors))
    elif new is not None:
        parsed.events.append(new)
        parsed.lines.append(row.line)


def _registered_here(item: Any, ids: KnownMembers) -> bool:
    """A registration whose ID number this node's key store indexes: the member is registered here."""
    if not isinstance(item, dict) or item.get("type") != "member.registered":
        return False
    payload = item.get("payload")
    personal = payload.get("personal") if isinstance(payload, dict) else None
    number = personal.get("id_number") if isinstance(personal, dict) else None
    return isinstance(number, str) and id_number_problem(number) is None and ids.member_of(number) is not None


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


def _rows(data: str | bytes, kind: str, default_type: str | None) -> Iterable[Row]:
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


def read_jsonl(text: str) -> Iterable[Row]:
    """One JSON value per line. Lines end at `\\n` (or `\\r\\n`) only: `str.splitlines` would also
    cut at U+2028, U+2029 and U+0085, which JSON allows raw inside a string, and at \\x0b, \\x0c
    and \\x1c–\\x1e, shifting every line number after them."""
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        try:
            yield Row(number, parse_json(line, ""))
        except FieldError as exc:
            yield Row(number, None, [exc])


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


def read_csv(text: str, default_type: str | None) -> Iterable[Row]:
    """Header row names fields: `type`, `occurred_at` and payload fields (dotted for nesting)."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        for row in reader:
            yield row_item(reader.line_num, row, default_type)
    except csv.Error as exc:  # e.g. a cell beyond the csv module's 131,072 characters
        raise FieldError("file", f"line {reader.line_num + 1}: not readable as CSV ({exc})") from None


def row_item(line: int, row: dict[str | None, Any], default_type: str | None) -> Row:
    """One CSV or Excel row (cells by header name: text, or what Excel stores) as a request item;
    a date or ID number cell is read as `roster_cells` says, its refusal kept with the row."""
    cells = {ROSTER_HEADERS.get(h.strip(), h.strip()): c for h, c in row.items() if isinstance(h, str)}
    columns = [k if k in ("type", "occurred_at") else f"payload.{k}" for k in cells]
    found = Row(line, {"payload": {}}, columns=columns)
    item = found.item
    if default_type:
        item["type"] = default_type
    if isinstance(cells.get("type"), str):
        item["type"] = cells.pop("type").strip()
    for key in cells:  # an empty 姓名 of a registration: `personal.name` missing, not `personal`
        if (parent := key.split(".", 1)[0]) != key and parent in required_fields(item.get("type")):
            item["payload"].setdefault(parent, {})
    cells = {k: c for k, c in cells.items() if c is not None and excel_text(c).strip() != ""}
    dates = date_fields(item.get("type"))
    for key, cell in cells.items():
        field_name = key if key in ("type", "occurred_at") else f"payload.{key}"
        try:
            if key in dates or key == "occurred_at":
                value, warning = date_cell(cell, field_name, with_time=key == "occurred_at")
                found.warnings.extend([warning] if warning else [])
            elif key == "personal.id_number":
                value = id_number_cell(cell, field_name)
            else:
                value = cell_value(excel_text(cell))
        except FieldError as exc:
            found.errors.append(exc)
            continue
        if key in ("type", "occurred_at"):
            item[key] = value if isinstance(value, str) else excel_text(value)
        else:
            set_dotted(item["payload"], key, value)
    return found


MAX_ROWS = 100_000
"""Rows of a sheet below its header, at most (an outstation's roster has hundreds)."""
MAX_COLUMNS = 64
"""Columns of a sheet, at most (a roster has about ten)."""


def read_xlsx(data: bytes, default_type: str | None) -> Iterable[Row]:
    """The first sheet of a workbook as CSV rows: row 1 names the fields, line = the row number;
    cells keep what Excel stores (numbers, dates) for `row_item` to read."""
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
            table.append(list(row[:MAX_COLUMNS]))
    finally:
        book.close()
    for line, cells in enumerate(table, start=2):
        if any(excel_text(c).strip() for c in cells):
            yield row_item(line, dict(zip(header[:MAX_COLUMNS], cells, strict=False)), default_type)


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
