"""A roster's cells as a clerk's spreadsheet holds them, read into the values an event takes.

Dates come as Excel date cells, as Excel serial numbers (a date column formatted as a number),
or as text written the ways an office writes them: `2021-05-06`, `2021-5-6`, `2021/5/6`,
`2019.03.01`, `2019年3月1日`, `20190301` (full-width digits too). A month without a day
(`2019年3月`, `2019-03`, `2019/3`) is read as the 1st of that month, with a warning the preview
shows. An ID number Excel stored as a number has lost its last digits (Excel keeps 15 significant
digits, an ID number has 18): that is said plainly, instead of a check digit that does not match.
"""

from __future__ import annotations

import re
import typing
import unicodedata
from datetime import date, datetime
from typing import Any

import msgspec
from openpyxl.utils.datetime import from_excel

from shared.catalog import EVENT_TYPES
from shared.catalog.base import id_number_problem
from shared.errors import FieldError

_DAY_FORMS = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
_MONTH_FORMS = (
    re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月份?"),
)
_TIME = re.compile(r"(?P<day>.+?)(?:[\sT]+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?)?")
_SERIAL = re.compile(r"\d{1,6}(?:\.\d+)?")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+?\d+", re.I)
_LAST_SERIAL = 109_574
"""Excel's serial of 2199-12-31: no business date lies at or after LATEST (2200-01-01)."""
_YEARS = (1900, 2200)
"""A number in this range is a year typed as a number (`2019`, `2019.3`), not an Excel serial
(which would be a day of 1905): refused rather than guessed."""

DATE_FORMS = "2019-03-01, 2019/3/1, 2019.3.1 or 2019年3月1日"

NUMBER_ID = (
    "Excel stored the ID number as a number and lost its last digits: format the column as text "
    "and type the ID numbers again"
)
"""Said of an ID number cell holding a number (or its scientific notation, as Excel writes one to
CSV); the page says it in Chinese."""


def date_fields(type_: str | None) -> frozenset[str]:
    """The payload fields of an event type that hold a date (`flowed_out_on` …)."""
    cls = EVENT_TYPES.get(type_ or "")
    if cls is None:
        return frozenset()
    return frozenset(f.encode_name for f in msgspec.structs.fields(cls) if _holds_date(f.type))


def required_fields(type_: str | None) -> frozenset[str]:
    """The payload fields an event type requires (`personal` of a registration …)."""
    cls = EVENT_TYPES.get(type_ or "")
    if cls is None:
        return frozenset()
    return frozenset(f.encode_name for f in msgspec.structs.fields(cls) if f.required)


def _holds_date(annotation: Any) -> bool:
    return annotation is date or date in typing.get_args(annotation)


def date_cell(cell: Any, field: str, *, with_time: bool = False) -> tuple[str, FieldError | None]:
    """A date cell as ISO text (`2019-03-01`) and the warning of a day assumed, or a FieldError
    naming `field`. With `with_time` (`occurred_at`), a time is kept (`T09:30:00`) and text in no
    form here is passed on as it is, for `inputs.parse_time`."""
    if isinstance(cell, datetime):
        return (cell.isoformat() if with_time else cell.date().isoformat()), None
    if isinstance(cell, date):
        return cell.isoformat(), None
    if isinstance(cell, int) and not isinstance(cell, bool) and 19_000_101 <= cell < 22_000_101:
        cell = str(cell)  # 20190301 typed as a number
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _serial(cell, str(cell), field).isoformat(), None
    if not isinstance(cell, str):
        raise FieldError(field, f"{cell!r} is not a date: write it as {DATE_FORMS}")
    text = unicodedata.normalize("NFKC", cell).strip()
    timed = _TIME.fullmatch(text)
    if timed is None:  # empty: the caller leaves empty cells out
        raise FieldError(field, f"{text!r} is not a date: write it as {DATE_FORMS}")
    day, at = timed["day"].strip(), ""
    if timed["h"] is not None:
        at = f"T{int(timed['h']):02d}:{timed['m']}:{timed['s'] or '00'}"
    for form in _DAY_FORMS:
        if m := form.fullmatch(day):
            found = _day(int(m["y"]), int(m["m"]), int(m["d"]), text, field)
            return found.isoformat() + (at if with_time else ""), None
    for form in () if at else _MONTH_FORMS:
        if m := form.fullmatch(day):
            first = _day(int(m["y"]), int(m["m"]), 1, text, field)
            month = f"{text!r} gives a month, not a day: read as the 1st ({first.isoformat()})"
            return first.isoformat(), FieldError(field, month)
    if _SERIAL.fullmatch(text):
        return _serial(float(text), text, field).isoformat(), None
    if with_time:  # an RFC 3339 time with its zone, or not a time: `inputs.parse_time` says which
        return text, None
    raise FieldError(field, f"{text!r} is not a date: write it as {DATE_FORMS}")


def _day(year: int, month: int, day: int, text: str, field: str) -> date:
    try:
        found = date(year, month, day)
    except ValueError:
        raise FieldError(field, f"{text!r} is not a day of the calendar") from None
    return found


def _serial(value: float, text: str, field: str) -> date:
    """An Excel serial number (1 = 1900-01-01) as the day it counts."""
    if _YEARS[0] <= value < _YEARS[1]:
        raise FieldError(field, f"{text} is a year typed as a number, not a date: write it as {DATE_FORMS}")
    if not 1 <= value <= _LAST_SERIAL:
        raise FieldError(field, f"{text} is not a date: write it as {DATE_FORMS}")
    found: date = from_excel(value).date()
    return found


def id_number_cell(cell: Any, field: str) -> str:
    """An ID number cell as its 18 characters (a final `x` as `X`, full-width as half-width);
    a number (or its scientific notation) is refused with what went wrong in Excel."""
    if isinstance(cell, float) or (isinstance(cell, int) and not isinstance(cell, bool)):
        text = str(int(cell)) if isinstance(cell, int) else ""
        if len(text) == 18 and id_number_problem(text) is None:  # written by a program, exactly: it is intact
            return text
        raise FieldError(field, NUMBER_ID)
    text = unicodedata.normalize("NFKC", str(cell)).strip().removeprefix("'").replace(" ", "").upper()
    if _SCIENTIFIC.fullmatch(text):
        raise FieldError(field, NUMBER_ID)
    return text
