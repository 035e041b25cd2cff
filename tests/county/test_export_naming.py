"""Unit tests of the exports' file names, Content-Disposition and shown values (no database: the
organisation tree is built in the test)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote

from services.county.api.responses import CSV_TYPE, download
from services.county.exports.layout import Kind, display_width, text_of
from services.county.exports.naming import file_names, scope_of
from services.county.queries.common import OrgTree

TREE = OrgTree(
    {
        "county": {"name": "江县县委", "kind": "county_committee", "parent_id": None, "mode": None},
        "t1": {
            "name": '东乡/镇:党委*?"<>|\n',
            "kind": "township_committee",
            "parent_id": "county",
            "mode": None,
        },
        "v1": {"name": "东一村党支部", "kind": "village_branch", "parent_id": "t1", "mode": None},
    }
)


def test_a_scope_is_named_by_its_levels_and_the_file_name_keeps_to_safe_characters() -> None:
    assert scope_of(TREE).names == ("江县县委",)
    village = scope_of(TREE, village="v1")
    assert village.ids == ("t1", "v1") and village.names[1] == "东一村党支部"
    chinese, plain = file_names("花名册", "roster", village, date(2026, 12, 3), "xlsx")
    assert chinese == "花名册_东乡_镇_党委_东一村党支部_2026-12-03.xlsx"
    assert plain == "roster_t1_v1_2026-12-03.xlsx"
    unknown = scope_of(TREE, township="-", org="nowhere")
    assert unknown.names == ("未登记乡镇", "nowhere") and unknown.ids == ("unregistered", "nowhere")
    long = OrgTree({"x": {"name": "长" * 100, "kind": "township_committee", "parent_id": None, "mode": None}})
    assert len(file_names("花名册", "roster", scope_of(long, township="x"), date(2026, 1, 1), "csv")[0]) < 70


def test_a_chinese_file_name_goes_in_filename_star_with_an_ascii_fallback() -> None:
    response = download(b"x", CSV_TYPE, "花名册_东乡_2026-12-03.csv", "roster_t1_2026-12-03.csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"roster_t1_2026-12-03.csv\"; filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]) == "花名册_东乡_2026-12-03.csv"
    assert disposition.isascii()
    plain = download(b"x", CSV_TYPE, "roster.csv").headers["content-disposition"]
    assert plain == 'attachment; filename="roster.csv"'


def test_values_are_shown_as_an_office_reads_them() -> None:
    assert text_of(Kind.YUAN, Decimal(-250) / 100) == "-2.50"
    assert text_of(Kind.YUAN, Decimal(123456789) / 100, grouped=True) == "1,234,567.89"
    assert text_of(Kind.RATE, 0.125) == "12.50%"
    assert text_of(Kind.TIME, datetime(2026, 1, 5, 9, 0, 7)) == "2026-01-05 09:00"
    assert text_of(Kind.MONTH, date(2026, 3, 1)) == "2026-03"
    assert text_of(Kind.DATE, date(2019, 3, 1)) == "2019-03-01"
    assert text_of(Kind.COUNT, 1400, grouped=True) == "1,400" and text_of(Kind.COUNT, None) == ""
    assert display_width("东乡a") == 5
