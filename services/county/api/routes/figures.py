"""/api/v1/figures: funds (五个一点), pioneer work and chambers, education."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.county.accounts.roles import READERS
from services.county.api.auth import require
from services.county.api.deps import KNOWN_AT_NOTE, FigureFilters, PointConnDep
from services.county.api.errors import BUSY, NOT_FOUND
from services.county.api.models.figures import EducationFigures, FigureUnits, FundsFigures, PioneerFigures
from services.county.api.responses import Json, ok
from services.county.exports.figure_units import units as figure_units
from services.county.queries import education as e
from services.county.queries import figures as q

router = APIRouter(prefix="/api/v1/figures", tags=["figures"], dependencies=[require(*READERS)])

FILTERS = (
    """Filters: `from`/`to` (inclusive China dates the events occurred), `org`, `mode`
(outstation mode of the fact's organisation), `township` (the township committee at or above
the fact's organisation; `-` for none). `group_by` (`org`, `mode`, `township`, `month`) adds
`groups`, each with `key`, `name` and the same figures as `total`; a group whose key is absent
has key `null`. Money is in fen. """
    + KNOWN_AT_NOTE
)


@router.get(
    "/funds",
    summary="Funds received by source, spent, and the balance",
    description="Sources: fiscal, dues_rebate, member_donation, org_raised, host_subsidy; "
    "`balance` = `received_total` − `spent`; `received_events` and `spendings` count the "
    "`fund.received` and `fund.spent` events. " + FILTERS,
    responses={**ok(FundsFigures), **NOT_FOUND, **BUSY},
)
def funds(conn: PointConnDep, filters: FigureFilters) -> Json:
    return Json(q.funds(conn, **filters))


@router.get(
    "/pioneer",
    summary="Pioneer work and township chambers, by event type",
    description="One section per event type, with its own names for money and people: "
    "`returnee.invested` amount_fen and jobs by industry; `investment.lead` households by kind; "
    "`jobs.posted` notices; `jobs.placed` people; `donation.made` amount_fen (cash + in kind) by "
    "cause; `dispute.mediated` events and recovered_fen by outcome; `legal.consulted` people; "
    "`service.provided` people by line; `enterprise.founded` households by industry; "
    "`chamber.member_joined` by kind; `chamber.funds_raised` and `chamber.project_launched` "
    "amount_fen. " + FILTERS,
    responses={**ok(PioneerFigures), **NOT_FOUND, **BUSY},
)
def pioneer(conn: PointConnDep, filters: FigureFilters) -> Json:
    return Json(q.pioneer(conn, **filters))


@router.get(
    "/education",
    summary="Training and organisational life, training coverage, study accounts",
    description="Training sessions and attendances by mode, organisational life by kind. "
    "`coverage`: members on the roster (out or contact lost) who attended training in `year`, "
    "over those members; `study_accounts`: how many of them have opened one. For coverage, "
    "`org` and `mode` apply to the member's outstation (or `org` to the home branch), "
    "`township` to the member's township; month groups carry no coverage. With `as_of` (business "
    "time D) coverage and study accounts are those of the roster as it stood at D (the member "
    "timeline), training attended by D and accounts opened by D; `as_of` acts as `to`, so `year` "
    "defaults to D's. With `known_at`, the sessions and the roster coverage is counted over are "
    "both those the projections held then. " + FILTERS,
    responses={**ok(EducationFigures), **NOT_FOUND, **BUSY},
)
def education(
    conn: PointConnDep,
    filters: FigureFilters,
    year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="Year of coverage; default the year of `to`, `from`, or today."),
    ] = None,
) -> Json:
    return Json(e.education(conn, year=year, **filters))


@router.get(
    "/units",
    summary="The unit of each figure's numbers, as the county report gives it",
    description="Per figure (`funds`, `pioneer`, `education`), each headline number by its dotted "
    "path (`legal.consulted.people`) and its unit, the one of the exports' headers: 人, 人次, 次, "
    "户, 家, 条, 起, 个, 件, 笔; 元 for money (fen in the figures; the report writes 万元, from 1 亿元 "
    "on 亿元); % for a rate. The same for every county and date: no filters.",
    responses=ok(FigureUnits),
)
def units() -> Json:
    return Json(figure_units())
