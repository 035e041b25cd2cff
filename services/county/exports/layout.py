"""One sheet as an office expects it, written to .xlsx or to CSV with the same header and values.

A sheet is a title row (what, scope, as-of, export time), a header row (Chinese), a 序号 column,
the rows, and a 合计 row where sums make sense. Cells are typed: counts are integers, money is 元
(`#,##0.00`), dates and times are dates and times in China Standard Time (`yyyy-mm-dd`,
`yyyy-mm-dd hh:mm`), rates are fractions shown as percentages. Columns are as wide as their
content (a Chinese character counts two), the header (and the leading columns named by
`keep_in_view`) stay in view, and the header carries an auto-filter.

The .xlsx is written in openpyxl's write-only mode (rows are streamed, not held as cell objects);
text never becomes a formula (`cells.py`): it is stored as a string, and a text that looks like
one also carries Excel's quote prefix. The CSV (UTF-8 with a BOM) has the header and the rows of
the sheet, without the title row, each value as the workbook shows it (money `1234.56`, a time
`2026-01-05 09:00`, a rate `12.50%`), formula-looking text behind an apostrophe (a number such as
`-12.50` stays a number).
"""

from __future__ import annotations

import enum
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from services.county.queries.cells import Cell, csv_bytes, csv_text, looks_like_formula

Value = str | int | Decimal | float | date | datetime | None
SERIAL = "序号"
TOTAL = "合计"


class Kind(enum.Enum):
    """What a column holds, and so its cell type and number format."""

    TEXT = "@"
    COUNT = "#,##0"
    YUAN = "#,##0.00"
    RATE = "0.00%"
    DATE = "yyyy-mm-dd"
    MONTH = "yyyy-mm"
    TIME = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT


@dataclass
class Sheet:
    """A sheet's rows without 序号 (added here); `total` is the 合计 row, None for none."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: list[list[Value]]
    total: list[Value] | None = None
    keep_in_view: int = 1
    """Columns after 序号 that stay in view when scrolling right (the name, the month)."""
    widths: dict[int, float] = field(default_factory=dict)


MAX_WIDTH = 60
TITLE_FONT = Font(bold=True, size=13)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin"))
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
TOTAL_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"))


def text_of(kind: Kind, value: Value, grouped: bool = False) -> str:
    """A value as the CSV writes it: money 1234.56, a rate 12.50%, a time to the minute; with
    `grouped`, numbers as the workbook shows them (1,234.56)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d" if kind is Kind.DATE else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m" if kind is Kind.MONTH else "%Y-%m-%d")
    comma = "," if grouped else ""
    if kind is Kind.YUAN:
        return f"{Decimal(value):{comma}.2f}"
    if kind is Kind.RATE:
        return f"{Decimal(value) * 100:.2f}%"
    return f"{value:{comma}}"


def display_width(text: str) -> int:
    """Columns a text takes on screen: a wide (Chinese) character two, any other one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table(sheet: Sheet) -> tuple[list[Column], list[list[Value]]]:
    columns = [Column(SERIAL, Kind.COUNT), *sheet.columns]
    rows: list[list[Value]] = [[n, *row] for n, row in enumerate(sheet.rows, start=1)]
    if sheet.total is not None:
        rows.append([TOTAL, *sheet.total])
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"sheet {sheet.name!r}: a row of {len(row)} cells under {len(columns)} columns")
    return columns, rows


def widths(columns: Sequence[Column], rows: Sequence[Sequence[Value]]) -> list[float]:
    """Each column as wide as its widest shown value or header (money with its thousands commas)."""
    out = []
    for i, column in enumerate(columns):
        widest = display_width(column.header)
        for row in rows:
            widest = max(widest, display_width(text_of(column.kind, row[i], grouped=True)))
        out.append(float(min(widest + 2, MAX_WIDTH)))
    return out


def _cell(ws: WriteOnlyWorksheet, value: Value, kind: Kind | None = None, **style: Any) -> Any:
    cell = WriteOnlyCell(ws, value=value)  # type: ignore[arg-type]  # a Decimal is a number too
    if isinstance(value, str):
        cell.data_type = "s"  # never "f": a text is a text
        if looks_like_formula(value):
            cell.quotePrefix = True
    elif kind is not None and kind is not Kind.TEXT and value is not None:
        cell.number_format = kind.value
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _write(book: Workbook, sheet: Sheet) -> None:
    columns, rows = _table(sheet)
    ws = book.create_sheet(sheet.name)
    for i, width in enumerate(widths(columns, rows), start=1):
        ws.column_dimensions[get_column_letter(i)].width = sheet.widths.get(i, width)
    ws.freeze_panes = f"{get_column_letter(2 + sheet.keep_in_view)}3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.row_dimensions[1].height = 24
    ws.append([_cell(ws, sheet.title, font=TITLE_FONT)])
    ws.append(
        [
            _cell(ws, c.header, font=HEADER_FONT, fill=HEADER_FILL, border=HEADER_BORDER, alignment=CENTRE)
            for c in columns
        ]
    )
    body = rows[:-1] if sheet.total is not None else rows
    for row in body:
        ws.append([_cell(ws, v, c.kind) for c, v in zip(columns, row, strict=True)])
    if sheet.total is not None:
        ws.append(
            [
                _cell(ws, v, c.kind, font=TOTAL_FONT, border=TOTAL_BORDER)
                for c, v in zip(columns, rows[-1], strict=True)
            ]
        )
    ws.auto_filter.ref = f"A2:{get_column_letter(len(columns))}{2 + len(body)}"


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of the sheets, in order."""
    book = Workbook(write_only=True)
    for sheet in sheets:
        _write(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_of(sheet: Sheet) -> bytes:
    """The sheet as CSV: the header, the rows and the 合计 row, each value as the workbook shows it."""
    columns, rows = _table(sheet)
    lines: list[list[Cell]] = [[csv_text(c.header) for c in columns]]
    for row in rows:  # a text may look like a formula; a number (-12.50) is a number
        lines.append(
            [
                csv_text(v) if isinstance(v, str) else text_of(c.kind, v)
                for c, v in zip(columns, row, strict=True)
            ]
        )
    return csv_bytes(lines)
