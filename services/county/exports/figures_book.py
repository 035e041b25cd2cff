"""The figures workbook (经费, 先锋作用, 教育培训) and each figure's CSV.

A figure is one sheet: a row per group — with `group_by=month` every month of the period, the
months without facts as zeros; by organisation, outstation mode or township the API's groups —
and a column per number of the figure (Chinese header and unit, `figure_labels.py`; the headline
numbers first, then their breakdowns by category, industry, mode or kind), then the
合计 row: the figure's total, which the groups add up to (the coverage rates are the total's own,
not a sum). Money is 元. Without `group_by` the sheet is the 合计 row alone.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from services.county.exports.figure_labels import SKIPPED, column
from services.county.exports.layout import Column, Kind, Sheet, Value
from services.county.exports.naming import Scope, file_names, scope_of, title
from services.county.exports.values import china_now, china_time, yuan
from services.county.exports.words import MODE, word
from services.county.queries import education, figures
from services.county.queries.common import NONE_NAME, load_tree
from services.county.queries.figures import GroupBy
from shared.errors import FieldError


class Figure(enum.StrEnum):
    FUNDS = "funds"
    PIONEER = "pioneer"
    EDUCATION = "education"


SHEET = {Figure.FUNDS: "经费", Figure.PIONEER: "先锋作用", Figure.EDUCATION: "教育培训"}
ASCII = {Figure.FUNDS: "funds", Figure.PIONEER: "pioneer", Figure.EDUCATION: "education"}
GROUP = {GroupBy.MONTH: "月份", GroupBy.ORG: "组织", GroupBy.MODE: "驻外模式", GroupBy.TOWNSHIP: "乡镇"}
GROUPED = {
    GroupBy.MONTH: "按月",
    GroupBy.ORG: "按组织",
    GroupBy.MODE: "按驻外模式",
    GroupBy.TOWNSHIP: "按乡镇",
}
YEARLY = ("coverage", "study_accounts")
"""Numbers of a year, not of a month: empty in a month's row."""
MAX_MONTHS = 1200
"""A month-by-month sheet covers at most 100 years (every month is a row)."""


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every number (or null) in a figure section, keyed by its dotted path, in the API's order."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, inner in value.items():
            out += flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, value)]


def figure_result(
    conn: Connection, figure: Figure, filters: dict[str, Any], year: int | None
) -> dict[str, Any]:
    if figure is Figure.FUNDS:
        return figures.funds(conn, **filters)
    if figure is Figure.PIONEER:
        return figures.pioneer(conn, **filters)
    return education.education(conn, year=year, **filters)


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:7]), 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(found: Sequence[str], date_from: date | None, date_to: date | None) -> list[date]:
    """Every month from `from` (else the first month with facts) to `to` (else the last)."""
    seen = [_month(m) for m in found]
    ends = [d.replace(day=1) for d in (date_from, date_to) if d is not None]
    first = date_from.replace(day=1) if date_from else min(seen + ends, default=None)
    last = date_to.replace(day=1) if date_to else max(seen + ends, default=None)
    if first is None or last is None:
        return []
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise FieldError("from", f"a month-by-month export covers at most {MAX_MONTHS} months")
    out, month = [], first
    while month <= last:
        out.append(month)
        month = _next(month)
    return out


@dataclass(frozen=True)
class Metric:
    path: str
    column: Column


def _cell(metric: Metric, numbers: dict[str, Any], total: bool) -> Value:
    if metric.path in numbers:
        value = numbers[metric.path]
    else:  # a month without facts, or a category this group lacks; a month has no yearly numbers
        value = None if metric.path.split(".")[0] in YEARLY and not total else 0
    if value is None:
        return None
    return yuan(value) if metric.column.kind is Kind.YUAN else value


class FiguresBook:
    """The figures export for one set of filters (those of `GET /api/v1/figures/…`)."""

    def __init__(
        self, conn: Connection, filters: dict[str, Any], year: int | None = None, now: datetime | None = None
    ) -> None:
        self.conn, self.filters, self.year = conn, filters, year
        self.tree = load_tree(conn)
        self.now = now or china_now()
        self.scope: Scope = scope_of(self.tree, township=filters.get("township"), org=filters.get("org"))

    def _narrowed(self) -> list[str]:
        f = self.filters
        out = []
        if f.get("date_from") or f.get("date_to"):
            out.append(f"期间：{f.get('date_from') or '…'} 至 {f.get('date_to') or '…'}")
        if f.get("mode") is not None:
            out.append(f"驻外模式：{word(MODE, str(f['mode']))}")
        if f.get("group_by") is not None:
            out.append(GROUPED[GroupBy(f["group_by"])])
        if f.get("known_at"):
            at = china_time(str(f["known_at"]))
            out.append(f"按 {at:%Y-%m-%d %H:%M}（北京时间）前到达的数据" if at else "")
        return [x for x in out if x]

    def _groups(self, result: dict[str, Any]) -> list[tuple[Value, dict[str, Any]]]:
        group_by = self.filters.get("group_by")
        found = {g["key"]: g for g in result["groups"]}

        def numbers(g: dict[str, Any] | None) -> dict[str, Any]:
            return dict(flatten({k: v for k, v in (g or {}).items() if k not in ("key", "name")}))

        if group_by is None:
            return []
        if GroupBy(group_by) is GroupBy.MONTH:
            keys = [k for k in found if k is not None]
            every = months(keys, self.filters.get("date_from"), self.filters.get("date_to"))
            return [(m, numbers(found.get(f"{m:%Y-%m}"))) for m in every]
        if GroupBy(group_by) is GroupBy.MODE:
            return [(word(MODE, g["key"]) or NONE_NAME, numbers(g)) for g in result["groups"]]
        return [(str(g["name"]), numbers(g)) for g in result["groups"]]

    def sheet(self, figure: Figure) -> Sheet:
        result = figure_result(self.conn, figure, self.filters, self.year)
        year = result["total"].get("coverage", {}).get("year") if figure is Figure.EDUCATION else None
        total = dict(flatten(result["total"]))
        paths = sorted((p for p in total if p not in SKIPPED), key=lambda p: ".by_" in p)  # headline first
        metrics = [Metric(p, column(figure.value, p, year)) for p in paths]
        group_by = self.filters.get("group_by")
        head: list[Column] = []
        if group_by is not None:
            kind = Kind.MONTH if GroupBy(group_by) is GroupBy.MONTH else Kind.TEXT
            head = [Column(GROUP[GroupBy(group_by)], kind)]
        rows = [[key, *(_cell(m, values, False) for m in metrics)] for key, values in self._groups(result)]
        return Sheet(
            SHEET[figure],
            title(f"{SHEET[figure]}统计", self.scope, self.filters.get("as_of"), self.now, *self._narrowed()),
            [*head, *(m.column for m in metrics)],
            rows,
            [*([""] if head else []), *(_cell(m, total, True) for m in metrics)],
            keep_in_view=len(head),
        )

    def _day(self) -> date:
        as_of = self.filters.get("as_of")
        return as_of.day if as_of is not None else self.now.date()

    def names(self, figure: Figure | None, ext: str) -> tuple[str, str]:
        what, ascii_what = ("统计报表", "figures") if figure is None else (SHEET[figure], ASCII[figure])
        return file_names(what, ascii_what, self.scope, self._day(), ext)
