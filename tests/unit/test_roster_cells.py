"""A roster's cells as offices write them (`roster_cells`), and every error of every line
(`roster_files`): dates in many forms, Excel's date cells and serials, ID numbers Excel made numbers."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from services.branch_node.application import NewEvent
from services.branch_node.roster_cells import NUMBER_ID, date_cell, date_fields, id_number_cell
from services.branch_node.roster_files import read_file
from shared.catalog.member import MemberRegistered
from shared.errors import FieldError
from tests.samples import id_number, xlsx

FIELD = "payload.flowed_out_on"


@pytest.mark.parametrize(
    "cell",
    [
        "2019-03-01",
        "2019-3-1",
        "2019/3/1",
        "2019/03/01",
        "2019.03.01",
        "2019.3.1",
        "2019年3月1日",
        "2019年03月01日",
        "2019年3月1号",
        "２０１９年３月１日",  # full-width, as a Chinese input method types it
        "20190301",
        " 2019/3/1 ",
        "2019/3/1 0:00",  # a date cell as Excel writes it to CSV
        43525,  # Excel's serial of 2019-03-01 (the column formatted as a number)
        43525.0,
        "43525",
        20190301,
        datetime(2019, 3, 1),  # an Excel date cell, as openpyxl reads it
        datetime(2019, 3, 1, 15, 30),
        date(2019, 3, 1),
    ],
)
def test_a_day_written_any_of_these_ways_is_2019_03_01(cell: Any) -> None:
    assert date_cell(cell, FIELD) == ("2019-03-01", None)


@pytest.mark.parametrize("cell", ["2019年3月", "2019年03月", "2019年3月份", "2019-03", "2019/3", "2019.3"])
def test_a_month_alone_is_read_as_its_first_day_with_a_warning(cell: str) -> None:
    value, warning = date_cell(cell, FIELD)
    assert value == "2019-03-01"
    assert warning is not None and warning.field == FIELD
    assert warning.message == f"{cell!r} gives a month, not a day: read as the 1st (2019-03-01)"


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("2019/2/30", "is not a day of the calendar"),
        ("2019年13月1日", "is not a day of the calendar"),
        ("2019年13月", "is not a day of the calendar"),
        ("去年三月", "is not a date: write it as 2019-03-01"),
        ("2019-03/01", "is not a date"),  # two different separators: not guessed
        ("3/1/2019", "is not a date"),  # month first: not guessed
        (2019, "is a year typed as a number"),  # not Excel's serial of a day in 1905
        (2019.3, "is a year typed as a number"),
        ("2019", "is a year typed as a number"),
        (0, "is not a date"),
        (10**9, "is not a date"),
        (True, "is not a date"),
    ],
)
def test_what_is_not_a_day_is_refused_naming_the_field(cell: Any, says: str) -> None:
    with pytest.raises(FieldError) as caught:
        date_cell(cell, FIELD)
    assert caught.value.field == FIELD and says in caught.value.message


def test_a_time_keeps_its_hour_and_passes_a_zoned_time_on() -> None:
    assert date_cell("2021/5/6 9:30", "occurred_at", with_time=True) == ("2021-05-06T09:30:00", None)
    assert date_cell(datetime(2021, 5, 6, 9, 30), "occurred_at", with_time=True)[0] == "2021-05-06T09:30:00"
    zoned = "2021-05-06T09:30:00+08:00"
    assert date_cell(zoned, "occurred_at", with_time=True) == (zoned, None)


def test_the_date_fields_of_a_type_come_from_the_catalog() -> None:
    assert date_fields("member.registered") == {"flowed_out_on"}
    assert date_fields("member.contact_lost") == {"last_contact_on"}  # `date | None`
    assert date_fields("fund.received") == set() and date_fields("no.such") == set()


@pytest.mark.parametrize(
    "cell",
    [
        4.31102198903150898e17,  # as Excel stores 431102198903150898: 15 digits kept
        float(int(id_number(1))),
        int(id_number(1)[:15] + "000"),  # its digits as Excel kept them, written back as an integer
        "4.31126E+17",  # a numeric cell as Excel writes it to CSV
        "4.31126196001010E+17",
    ],
)
def test_an_id_number_excel_made_a_number_is_said_plainly(cell: Any) -> None:
    with pytest.raises(FieldError) as caught:
        id_number_cell(cell, "payload.personal.id_number")
    assert caught.value.message == NUMBER_ID
    assert caught.value.field == "payload.personal.id_number"


def test_an_id_number_as_text_or_an_exact_integer_is_kept() -> None:
    assert id_number_cell("11010519491231002x", "f") == "11010519491231002X"  # a final x
    assert id_number_cell("１１０１０５１９４９１２３１００２Ｘ", "f") == "11010519491231002X"
    assert id_number_cell("'11010519491231002X", "f") == "11010519491231002X"  # typed to force text
    assert id_number_cell(" 4311 2619 6001 0100 01 ", "f") == "431126196001010001"
    exact = next(id_number(i) for i in range(100) if id_number(i)[-1] != "X")
    assert id_number_cell(int(exact), "f") == exact  # a program wrote the integer: every digit kept


class NoMembers:
    def assign(self, id_number: str) -> str:
        return id_number_hex(id_number)

    def member_of(self, id_number: str) -> str | None:
        return None


def id_number_hex(number: str) -> str:
    return f"{int(number.replace('X', '0')):032x}"[-32:]


HEADER = ["姓名", "身份证号", "手机号", "所属支部", "流入地", "外出日期"]


def flowed_out_on(new: NewEvent) -> date:
    assert isinstance(new.body, MemberRegistered)
    return new.body.flowed_out_on


def test_every_error_of_every_line_of_a_workbook_each_once() -> None:
    rows: list[list[Any]] = [
        ["甲", id_number(1), "13900000001", "v-1", "广东东莞", "2019/3/1"],
        ["", 4.31102198903150898e17, "12", "上塘村", "", "2019/2/30"],  # five errors
        ["丙", id_number(3), "", "v-1", "广东东莞", "2019年3月"],  # a warning only
        ["丁", "43112619600101000", "13900000004", "v-1", "广东东莞", datetime(2019, 3, 1)],
    ]
    parsed = read_file(xlsx(rows, HEADER), "xlsx", "member.registered", NoMembers())
    assert [(line, e.field) for line, e in parsed.errors] == [
        (3, "payload.personal.name"),  # in the order of the columns
        (3, "payload.personal.id_number"),
        (3, "payload.personal.phone"),
        (3, "payload.home_branch"),
        (3, "payload.flowed_out_on"),
        (5, "payload.personal.id_number"),
    ]
    assert [e.message for line, e in parsed.errors if line == 3][1] == NUMBER_ID
    assert parsed.lines == [2, 4]
    assert [(line, w.field) for line, w in parsed.warnings] == [(4, "payload.flowed_out_on")]
    assert [flowed_out_on(e) for e in parsed.events] == [date(2019, 3, 1), date(2019, 3, 1)]


def test_excel_date_cells_and_serials_are_read_from_a_real_workbook() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["甲", id_number(1), None, "v-1", "广东东莞", datetime(2018, 5, 6)])
    sheet.append(["乙", id_number(2), None, "v-1", "广东东莞", 43525])
    sheet["F3"].number_format = "General"  # a date column formatted as a number: the serial
    out = io.BytesIO()
    book.save(out)
    parsed = read_file(out.getvalue(), "xlsx", "member.registered", NoMembers())
    assert parsed.errors == []
    assert [flowed_out_on(e) for e in parsed.events] == [date(2018, 5, 6), date(2019, 3, 1)]
