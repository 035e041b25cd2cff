"""/api/v1/export: the roster, the alerts and the figures as Excel workbooks (.xlsx) and CSV.

The roster's CSV is `GET /api/v1/roster/members.csv`; its workbook here has the same rows
(`services/county/exports/`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.county.accounts.roles import READERS
from services.county.api.auth import require
from services.county.api.deps import (
    KNOWN_AT_NOTE,
    AsOfDep,
    FigureFilters,
    NameSearch,
    PointConnDep,
    RosterFilters,
    ScopedTownship,
    Village,
)
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.expensive import heavy_job
from services.county.api.responses import CSV_TYPE, XLSX_TYPE, download, file
from services.county.api.routes.alerts import PLACE, AlertKindQuery, scoped_village
from services.county.api.routes.figures import FILTERS
from services.county.api.routes.reveals import personal_view
from services.county.api.routes.roster import LEVELS
from services.county.exports import layout
from services.county.exports.alerts_book import AlertsAsk, AlertsBook
from services.county.exports.figures_book import Figure, FiguresBook
from services.county.exports.roster_book import RosterAsk, RosterBook

router = APIRouter(prefix="/api/v1/export", tags=["export"], dependencies=[require(*READERS)])

HeavyJob = Annotated[None, Depends(heavy_job(""), scope="function")]
"""A workbook or CSV is built whole in memory: the caller's one heavy job (`api/expensive.py`)."""
Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Year of education coverage, as for GET /api/v1/figures/education."),
]
FIGURES = """One row per group (with `group_by=month` every month of the period, months without
facts as zeros) with 序号, one column per number of the figure (Chinese header with the unit: 人,
人次, 户, 家, 条, 起, 次; money in 元 as numbers with two decimals, rates as percentages), and a
合计 row, the figure's total; without `group_by` the 合计 row alone. A title row names the scope,
the period and the export time; the file is named by figure, scope and date. The filters are
those of `GET /api/v1/figures/…`, `as_of` included: """


@router.get(
    "/roster.xlsx",
    summary="The roster as an Excel workbook",
    description="Sheet `花名册`: every matching member, one a row with 序号 (the columns of "
    "`GET /api/v1/roster/members.csv`: Chinese headers, statuses in words, organisations by name, "
    "times in China Standard Time as date cells, ID numbers and phones masked); sheet `分级统计`: "
    "the counts by status of each township (or village) of the level and their 合计. A title row "
    "names the scope, the as-of date and the export time; the file is named by scope and date "
    "(`花名册_城关镇_2026-12-03.xlsx`). The same filters. " + LEVELS,
    response_class=Response,
    responses={**file(XLSX_TYPE, "An .xlsx workbook"), **NOT_FOUND, **BUSY},
)
def roster_xlsx(
    _: HeavyJob,
    request: Request,
    conn: PointConnDep,
    filters: RosterFilters,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
    name: NameSearch = None,
) -> Response:
    ask = RosterAsk(township, village, as_of, name=name, **filters)
    book = RosterBook(conn, ask, view=personal_view(request))
    body = layout.to_xlsx([book.members(), book.levels()])
    return download(body, XLSX_TYPE, *book.names("xlsx"))


ALERTS = """Every alert of `GET /api/v1/alerts` in scope (no paging), by kind, then name:
sheet `预警名单` one alert a row with 序号 — the kind, status and review sides in words,
organisations by name, the dates that explain it (最近组织生活, 最近培训, 失联起始) as China
Standard Time date cells, names only (alerts carry no ID number or phone); sheet `预警统计`: the
count of each kind and their 合计. A title row names the scope, the as-of date and the export
time; the file is named by scope and date (`双重管理预警_东乡镇党委_2026-12-03.xlsx`). """


@router.get(
    "/alerts.xlsx",
    summary="The dual-management alerts as an Excel workbook",
    description=ALERTS + PLACE + KNOWN_AT_NOTE,
    response_class=Response,
    responses={**file(XLSX_TYPE, "An .xlsx workbook"), **NOT_FOUND, **BUSY},
)
def alerts_xlsx(
    _: HeavyJob,
    request: Request,
    conn: PointConnDep,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
    kind: AlertKindQuery = None,
) -> Response:
    scoped_village(request, conn, township, village)
    book = AlertsBook(conn, AlertsAsk(township, village, kind, as_of), view=personal_view(request))
    return download(layout.to_xlsx([book.items(), book.counts()]), XLSX_TYPE, *book.names("xlsx"))


@router.get(
    "/alerts.csv",
    summary="The dual-management alerts as CSV (for Excel)",
    description="The sheet `预警名单` of `GET /api/v1/export/alerts.xlsx` without its title row, "
    "UTF-8 with a byte-order mark. " + ALERTS + PLACE + KNOWN_AT_NOTE,
    response_class=Response,
    responses={**file(CSV_TYPE, "CSV with a header row"), **NOT_FOUND, **BUSY},
)
def alerts_csv(
    _: HeavyJob,
    request: Request,
    conn: PointConnDep,
    as_of: AsOfDep,
    township: ScopedTownship,
    village: Village = None,
    kind: AlertKindQuery = None,
) -> Response:
    scoped_village(request, conn, township, village)
    book = AlertsBook(conn, AlertsAsk(township, village, kind, as_of), view=personal_view(request))
    return download(layout.csv_of(book.items()), CSV_TYPE, *book.names("csv"))


@router.get(
    "/figures.xlsx",
    summary="Funds, pioneer and education figures as an Excel workbook",
    description="One sheet per figure (`经费`, `先锋作用`, `教育培训`; all three unless `figure` "
    "names some). " + FIGURES + FILTERS,
    response_class=Response,
    responses={**file(XLSX_TYPE, "An .xlsx workbook"), **NOT_FOUND, **BUSY},
)
def figures_xlsx(
    _: HeavyJob,
    conn: PointConnDep,
    filters: FigureFilters,
    year: Year = None,
    figure: Annotated[list[Figure] | None, Query(description="Only these figures (repeatable).")] = None,
) -> Response:
    chosen = list(dict.fromkeys(figure or list(Figure)))
    book = FiguresBook(conn, filters, year)
    body = layout.to_xlsx([book.sheet(f) for f in chosen])
    return download(body, XLSX_TYPE, *book.names(None, "xlsx"))


@router.get(
    "/figures.csv",
    summary="One figure as CSV (for Excel)",
    description="The figure's sheet of `GET /api/v1/export/figures.xlsx` without its title row, "
    "UTF-8 with a byte-order mark. " + FIGURES + FILTERS,
    response_class=Response,
    responses={**file(CSV_TYPE, "CSV with a header row"), **NOT_FOUND, **BUSY},
)
def figures_csv(
    _: HeavyJob,
    conn: PointConnDep,
    filters: FigureFilters,
    figure: Annotated[Figure, Query(description="Which figure: funds, pioneer or education.")],
    year: Year = None,
) -> Response:
    book = FiguresBook(conn, filters, year)
    return download(layout.csv_of(book.sheet(figure)), CSV_TYPE, *book.names(figure, "csv"))
