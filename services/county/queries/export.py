"""Exports for Excel: the roster rows (the same as the roster CSV) and the figures as tables.

A figure (funds, pioneer, education) becomes a table with one row per metric — the path of a
number in the API's JSON, e.g. `received.fiscal` or `training.by_mode.cloud.attendances` — and
one column for the total and one per group (`group_by`), named by the group's name. Money stays
integer fen, as in the API. The same rows go to CSV or to an .xlsx workbook (`cells.py`: never a
formula).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from services.county.queries import education, figures
from services.county.queries.cells import Cell, Table, to_csv, to_xlsx
from services.county.queries.roster import roster_records
from shared.catalog.status import STATUSES

__all__ = ["Cell", "Figure", "Table", "to_csv", "to_xlsx"]


class Figure(enum.StrEnum):
    FUNDS = "funds"
    PIONEER = "pioneer"
    EDUCATION = "education"


def roster_table(conn: Connection, **params: Any) -> Table:
    """The roster CSV's header and rows (`roster_records`, which the CSV writes too), as a table."""
    return roster_records(conn, **params)


def roster_level_table(summary: dict[str, Any]) -> Table:
    """Counts by status at the level and each child level, as `GET /api/v1/roster` gives them."""
    statuses = list(STATUSES)
    rows: Table = [["level", "id", "name", "total", *statuses]]
    for item in [summary, *summary["children"]]:
        counts = item["by_status"]
        rows.append([item["level"], item["id"], item["name"], item["total"], *(counts[s] for s in statuses)])
    return rows


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Cell]]:
    """Every number (or null) in a figure section, keyed by its dotted path, in the API's order."""
    if isinstance(value, dict):
        out: list[tuple[str, Cell]] = []
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


def figure_table(result: dict[str, Any]) -> Table:
    """Metric rows × (total, each group) columns; a metric a group lacks is left empty."""
    total = flatten(result["total"])
    groups = [
        dict(flatten({k: v for k, v in g.items() if k not in ("key", "name")})) for g in result["groups"]
    ]
    rows: Table = [["metric", "total", *(str(g["name"]) for g in result["groups"])]]
    for metric, value in total:
        rows.append([metric, value, *(g.get(metric) for g in groups)])
    return rows


def filters_table(result: dict[str, Any], figures: Sequence[Figure]) -> Table:
    rows: Table = [["filter", "value"]]
    rows += [[k, v] for k, v in result["filters"].items()]
    rows.append(["figures", ",".join(f.value for f in figures)])
    return rows
