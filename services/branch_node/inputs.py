"""What clerks and clients send: one event as {type, occurred_at, payload}, from JSON, CSV or options.

Every way in (HTTP, CLI, a file) goes through `parse_json` and `parse_item`, so a value out of
bounds (`shared.bounds`: nesting depth, times, text without control characters) is refused the
same way everywhere, naming the field, before anything is appended.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from services.branch_node.application import NewEvent
from shared.bounds import check_depth
from shared.catalog import convert_payload
from shared.catalog.base import CHINA_STANDARD_TIME, id_number_problem
from shared.errors import FieldError


class MemberIds(Protocol):
    """Who gives a new registration its member id (the node's key store, `keystore.KeyStore`)."""

    def assign(self, id_number: str) -> str:
        """The member this ID number belongs to here, else a fresh random id; persists nothing."""
        ...


def parse_json(text: str | bytes, field: str = "body") -> Any:
    """JSON as sent to the node, or a FieldError naming `field`: too deeply nested (checked before
    the parser recurses), not JSON, or holding a lone surrogate (text without a UTF-8 form)."""
    check_depth(text, field)
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, a number of more than 4,300 digits
        detail = f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise FieldError(field, f"not valid JSON: {detail}") from None
    if _has_surrogate(value):
        raise FieldError(field, "holds a lone surrogate escape (\\ud800–\\udfff), which is no character")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def parse_time(value: Any, field: str = "occurred_at") -> datetime:
    """RFC 3339 time; a time without zone, or a bare date, is read as China Standard Time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FieldError(
                field, f"{value!r} is not a date-time such as 2026-11-27T09:30:00+08:00"
            ) from None
        if len(value.strip()) == 10:  # a bare date
            moment = datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
    else:
        raise FieldError(field, "must be a date-time string")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_STANDARD_TIME)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in China is still year 0 in UTC
        raise FieldError(field, f"{value!r} is out of range") from None


def parse_item(item: Any, ids: MemberIds, *, strict: bool = True, now: datetime | None = None) -> NewEvent:
    """Validate one request item; a registration without a member id is given one by `ids` (the
    member this node already indexes under the ID number, else a random one)."""
    if not isinstance(item, dict):
        raise FieldError("", "each event must be an object with type, occurred_at and payload")
    type_ = item.get("type")
    if not isinstance(type_, str):
        raise FieldError("type", "required: the event type, e.g. member.registered")
    unknown = set(item) - {"type", "occurred_at", "payload"}
    if unknown:
        raise FieldError(sorted(unknown)[0], "unknown field (expected type, occurred_at, payload)")
    occurred = item.get("occurred_at")
    occurred_at = parse_time(occurred) if occurred not in (None, "") else (now or datetime.now(UTC))
    payload = item.get("payload")
    if not isinstance(payload, dict):
        raise FieldError("payload", "required: an object with the event's fields")
    if type_ == "member.registered":
        payload = _with_member_id(payload, ids)
    return NewEvent(body=convert_payload(type_, payload, strict=strict), occurred_at=occurred_at)


def _with_member_id(payload: dict[str, Any], ids: MemberIds) -> dict[str, Any]:
    """A given member id (an import, a move from elsewhere) is kept: the key store refuses it at
    sealing if the ID number is another member's here."""
    if payload.get("member_id") not in (None, ""):
        return payload
    personal = payload.get("personal")
    if not isinstance(personal, dict) or not isinstance(personal.get("id_number"), str):
        raise FieldError("payload.personal.id_number", "required field is missing")
    if problem := id_number_problem(personal["id_number"]):
        raise FieldError("payload.personal.id_number", problem)
    return {**payload, "member_id": ids.assign(personal["id_number"])}


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    """`personal.name=张三` → target["personal"]["name"] = "张三"."""
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise FieldError(dotted, f"{part} is not an object")
    target[leaf] = value


def cell_value(text: str) -> Any:
    """A CSV cell or a --field value: JSON lists/objects are parsed, all else stays text."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return parse_json(stripped, "cell")
        except FieldError:
            return text
    return stripped


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
