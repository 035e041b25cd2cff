"""Spreadsheet cells as the county writes them: CSV for Excel and .xlsx, neither ever a formula.

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is what Excel,
LibreOffice and Google Sheets read as a formula (`=HYPERLINK(…)`, `=cmd|' /C calc'!A0`): a member
name typed at an outstation must not run on an analyst's PC (OWASP "CSV injection"). So:

- in CSV such a text is written with a leading apostrophe (`'=HYPERLINK(…)`), which spreadsheet
  programs show as text and never evaluate;
- in .xlsx every text cell is stored as a string (openpyxl would otherwise store a text beginning
  with `=` as a formula) and one that looks like a formula also carries Excel's quote-prefix style,
  so that editing the cell keeps it text. The value itself stays as recorded.

Numbers and booleans stay numbers and booleans; None is an empty cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Font

Cell = str | int | float | bool | None
Table = list[list[Cell]]

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters a spreadsheet program reads as the start of a formula."""


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_LEADS)


def csv_text(value: Cell) -> Cell:
    """A CSV cell: a formula-looking text behind an apostrophe, everything else as it is."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return "" if value is None else value


def csv_bytes(rows: Iterable[Sequence[Cell]]) -> bytes:
    """Rows as they are as CSV (UTF-8 with a byte-order mark, CRLF) that Excel opens with the
    Chinese intact; the caller has put every text through `csv_text`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_csv(rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV for Excel (`csv_bytes`), every formula-looking text behind an apostrophe."""
    return csv_bytes([csv_text(v) for v in row] for row in rows)


def _put(sheet_cell: XlsxCell, value: Cell) -> None:
    sheet_cell.value = value
    if isinstance(value, str):
        sheet_cell.data_type = "s"  # never "f": a text is a text
        if looks_like_formula(value):
            sheet_cell.quotePrefix = True


def to_xlsx(sheets: dict[str, Table]) -> bytes:
    """A workbook with one sheet per table, the header row bold and frozen."""
    book = Workbook()
    for sheet in list(book.worksheets):
        book.remove(sheet)
    bold = Font(bold=True)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                _put(sheet.cell(row=r, column=c), value)
        for cell in sheet[1] if rows else ():
            cell.font = bold
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
