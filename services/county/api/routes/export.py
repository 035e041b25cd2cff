"""/api/v1/export: the roster and the figures as Excel workbooks (.xlsx) and CSV.

The roster's CSV is `GET /api/v1/roster/members.csv`; its workbook here has the same rows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.county.accounts.roles import READERS
from services.county.api.auth import require
from services.county.api.deps import (
    AsOfDep,
    FigureFilters,
    PointConnDep,
    RosterFilters,
    ScopedTownship,
    Village,
)
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.expensive import heavy_job
from services.county.api.responses import CSV_TYPE, XLSX_TYPE, download, file
from services.county.api.routes.figures import FILTERS
from services.county.api.routes.reveals import personal_view
from services.county.api.routes.roster import LEVELS
from services.county.queries import export as x
from services.county.queries import roster as q

router = APIRouter(prefix="/api/v1/export", tags=["export"], dependencies=[require(*READERS)])

HeavyJob = Annotated[None, Depends(heavy_job(""), scope="function")]
"""A workbook or CSV is built whole in memory: the caller's one heavy job (`api/expensive.py`)."""
Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Year of education coverage, as for GET /api/v1/figures/education."),
]
FIGURES = """One row per metric — the dotted path of the number in the figure's JSON (`received.fiscal`,
`training.by_mode.cloud.attendances`) — with a `total` column and, with `group_by`, one column per
group named by the group's name (a month such as `2026-03`). Money is integer fen. The filters are
those of `GET /api/v1/figures/…`, `as_of` included: """


@router.get(
    "/roster.xlsx",
    summary="The roster as an Excel workbook",
    description="Sheet `roster`: every matching member, the same columns and rows as "
    "`GET /api/v1/roster/members.csv`; sheet `levels`: the counts by status at the level and each "
    "child, as `GET /api/v1/roster`. The same filters. " + LEVELS,
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
) -> Response:
    params: dict[str, Any] = {"township": township, "village": village, "as_of": as_of, **filters}
    members = x.roster_table(conn, view=personal_view(request), **params)
    levels = x.roster_level_table(q.roster_summary(conn, **params))
    body = x.to_xlsx({"roster": members, "levels": levels})
    return download(body, XLSX_TYPE, "roster.xlsx")


@router.get(
    "/figures.xlsx",
    summary="Funds, pioneer and education figures as an Excel workbook",
    description="One sheet per figure (all three unless `figure` names some) and a sheet "
    "`filters` echoing the filters applied. " + FIGURES + FILTERS,
    response_class=Response,
    responses={**file(XLSX_TYPE, "An .xlsx workbook"), **NOT_FOUND, **BUSY},
)
def figures_xlsx(
    _: HeavyJob,
    conn: PointConnDep,
    filters: FigureFilters,
    year: Year = None,
    figure: Annotated[list[x.Figure] | None, Query(description="Only these figures (repeatable).")] = None,
) -> Response:
    chosen = list(dict.fromkeys(figure or list(x.Figure)))
    results = {f: x.figure_result(conn, f, filters, year) for f in chosen}
    sheets = {f.value: x.figure_table(r) for f, r in results.items()}
    sheets["filters"] = x.filters_table(results[chosen[0]], chosen)
    return download(x.to_xlsx(sheets), XLSX_TYPE, "figures.xlsx")


@router.get(
    "/figures.csv",
    summary="One figure as CSV (for Excel)",
    description="UTF-8 with a byte-order mark. " + FIGURES + FILTERS,
    response_class=Response,
    responses={**file(CSV_TYPE, "CSV with a header row"), **NOT_FOUND, **BUSY},
)
def figures_csv(
    _: HeavyJob,
    conn: PointConnDep,
    filters: FigureFilters,
    figure: Annotated[x.Figure, Query(description="Which figure: funds, pioneer or education.")],
    year: Year = None,
) -> Response:
    table = x.figure_table(x.figure_result(conn, figure, filters, year))
    return download(x.to_csv(table), CSV_TYPE, f"{figure.value}.csv")
